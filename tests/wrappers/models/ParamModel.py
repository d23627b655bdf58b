class ParamModel:
    """Echoes its constructor parameters (with their Python types) as jsonData."""

    def __init__(self, **params):
        self.params = params

    def predict(self, X, features_names=None):
        return {name: [value, type(value).__name__] for name, value in self.params.items()}
