class Identity:
    """Answers every typed method with what it was given, so any failure a fuzz test sees is the wrapper's."""

    def predict(self, X, features_names=None):
        return X

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        return []
