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
