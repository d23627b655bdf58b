class AddOne:
    """TRANSFORMER / OUTPUT_TRANSFORMER: X + 1 on the way in, X * 10 on the way out."""

    def transform_input(self, X, features_names=None):
        return X + 1

    def transform_output(self, X, features_names=None):
        return X * 10

    def init_metadata(self):
        return {
            "name": "add-one",
            "versions": ["v1"],
            "platform": "test",
            "inputs": [{"messagetype": "tensor", "schema": {"shape": [1]}}],
            "outputs": [{"messagetype": "tensor", "schema": {"shape": [11]}}],
        }
