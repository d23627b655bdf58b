class MyTransformer:
    def transform_input(self, X, features_names=None):
        return X + 1

    def transform_output(self, X, features_names=None):
        return X * 10
