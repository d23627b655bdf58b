import numpy as np


class SeldonResponse:
    """A stand-in for seldon-core's SeldonResponse (recognised by its class name)."""

    def __init__(self, data, tags=None, metrics=None):
        self.data, self.tags, self.metrics = data, tags or {}, metrics or []


class FeatureModel:
    """Signatures of every shape seldon-core accepts, runtime tags/metrics, and feature_names."""

    def predict(self, X, names, meta):
        return SeldonResponse(
            np.array([[len(names), len(meta or {})]]),
            tags={"runtime": "yes"},
            metrics=[
                {"key": "rt_gauge", "type": "GAUGE", "value": 7},
                {"key": "rt_timer", "type": "TIMER", "value": 20},
            ],
        )

    def transform_input(self, X):
        return X - 1

    def transform_output(self, X, features_names, **kwargs):
        return [[sorted(kwargs)]]

    def route(self, X, features_names=None):
        return np.int64(2)

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        return SeldonResponse(
            [[routing if routing is not None else -9]], metrics=[{"key": "fb", "type": "COUNTER", "value": 2}]
        )
