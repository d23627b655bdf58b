class MetaModel:
    def predict(self, X, features_names=None, meta=None):
        return X * 2

    def tags(self):
        return {"mytag": "v1"}

    def metrics(self):
        return [{"type": "COUNTER", "key": "mycounter", "value": 1}]

    def class_names(self):
        return ["a", "b"]

    def init_metadata(self):
        return {
            "name": "meta-model",
            "versions": ["v1"],
            "platform": "custom",
            "inputs": [{"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2]}}],
            "outputs": [{"messagetype": "tensor", "schema": {"shape": [2]}}],
        }
