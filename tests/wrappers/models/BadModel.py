class BadModel:
    def predict(self, X, features_names=None):
        raise ValueError("boom from model")
