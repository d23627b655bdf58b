import os
import time


class SlowModel:
    """Takes a second per prediction and says which worker process answered."""

    def predict(self, X, features_names=None):
        time.sleep(float(X.flatten()[0]))
        return {"pid": os.getpid()}
