class IdentityModel:
    """Answers with its input, as seldon-core's test UserObject does."""

    def predict(self, X, features_names=None):
        return X
