from _record import record


class Doubler:
    """MODEL: X * 2; records feedback; metadata with inputs of shape [2] and outputs of shape [22]."""

    def predict(self, X, features_names=None):
        return X * 2

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        record("doubler", features, reward, truth, routing)
        return []

    def init_metadata(self):
        return {
            "name": "doubler",
            "versions": ["v1"],
            "platform": "test",
            "inputs": [{"messagetype": "tensor", "schema": {"shape": [2]}}],
            "outputs": [{"messagetype": "tensor", "schema": {"shape": [22]}}],
        }
