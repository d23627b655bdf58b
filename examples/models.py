"""Example Seldon v1 model classes, written exactly as users write them for seldon-core (no seldon-graph import)."""

import numpy as np


class Doubler:
    """MODEL: returns X * 2."""

    def predict(self, X, features_names=None):
        return X * 2


class AddOne:
    """TRANSFORMER / OUTPUT_TRANSFORMER: X + 1 on the way in, X * 10 on the way out."""

    def transform_input(self, X, features_names=None):
        return X + 1

    def transform_output(self, X, features_names=None):
        return X * 10


class ThresholdRouter:
    """ROUTER: child 1 when the first feature is above `threshold`, else child 0."""

    def __init__(self, threshold=10.0):
        self.threshold = float(threshold)

    def route(self, X, features_names=None):
        return 1 if float(np.asarray(X).flatten()[0]) > self.threshold else 0

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        return []


class MeanCombiner:
    """COMBINER: the element-wise mean of the children's outputs."""

    def aggregate(self, Xs, features_names=None):
        return np.mean(np.array(Xs), axis=0)


class Tripler:
    """MODEL: returns X * 3 (tells apart the second model, the canary or the shadow in the examples)."""

    def predict(self, X, features_names=None):
        return X * 3


class Recorder:
    """MODEL: returns X * 3 and appends each request's values as one line to the file named by env RECORD_FILE."""

    def __init__(self):
        import os

        self.path = os.environ.get("RECORD_FILE")

    def predict(self, X, features_names=None):
        if self.path:
            with open(self.path, "a") as out:
                out.write(" ".join(str(v) for v in np.asarray(X).flatten()) + "\n")
        return X * 3


class Crasher:
    """A model that cannot start: raises on load (shows how a failed unit is reported)."""

    def __init__(self):
        raise RuntimeError("Crasher refuses to start: this is the failing unit of examples/failing.yaml")

    def predict(self, X, features_names=None):
        return X


class Slow:
    """MODEL: returns X * 2 after `delay` seconds (shows that requests in flight finish on shutdown)."""

    def __init__(self, delay=1.0):
        self.delay = float(delay)

    def predict(self, X, features_names=None):
        import time

        time.sleep(self.delay)
        return X * 2
