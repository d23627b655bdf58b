class Model:
    def predict(self, X, features_names=None):
        return X * 2
