from _record import record


class Tagger:
    """MODEL: X + 100, with tags and custom metrics; records feedback."""

    def predict(self, X, features_names=None):
        return X + 100

    def tags(self):
        return {"tagger": "yes", "shared": "tagger"}

    def metrics(self):
        return [
            {"type": "COUNTER", "key": "tagger_calls", "value": 1},
            {"type": "GAUGE", "key": "tagger_gauge", "value": 5},
        ]

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        record("tagger", features, reward, truth, routing)
        return []
