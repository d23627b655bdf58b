"""A class built on a base shaped like seldon-core's SeldonComponent: every optional method exists and raises
SeldonNotImplementedError, which the wrapper must treat as "not defined"."""


class SeldonNotImplementedError(Exception):
    status_code = 400


class Component:
    def tags(self):
        raise SeldonNotImplementedError("tags is not implemented")

    def metrics(self):
        raise SeldonNotImplementedError("metrics is not implemented")

    def class_names(self):
        raise SeldonNotImplementedError("class_names is not implemented")

    def predict_raw(self, msg):
        raise SeldonNotImplementedError("predict_raw is not implemented")

    def transform_input(self, X, names, meta=None):
        raise SeldonNotImplementedError("transform_input is not implemented")

    def health_status(self):
        raise SeldonNotImplementedError("health is not implemented")

    def init_metadata(self):
        raise SeldonNotImplementedError("init_metadata is not implemented")


class ComponentModel(Component):
    def predict(self, X, names, meta=None):
        return X * 3
