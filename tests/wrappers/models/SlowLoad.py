import time


class SlowLoad:
    """load() takes a while; predict answers only with what load() prepared."""

    def __init__(self, delay="1.5"):
        self.delay = float(delay)
        self.offset = None

    def load(self):
        time.sleep(self.delay)
        self.offset = 100

    def predict(self, X, features_names=None):
        return X + self.offset
