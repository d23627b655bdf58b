"""MLFLOW_SERVER: an MLflow model folder (its `MLmodel` file) loaded with `mlflow.pyfunc`. `xtype` ndarray (the
default) passes the features as they come; dataframe builds a pandas DataFrame with the request's names as
columns. A DataFrame result's columns become the response's names."""

from __future__ import annotations

from typing import Any

from mlflow import pyfunc

from seldon_graph.errors import BAD_PARAMETER, SeldonError
from seldon_graph.wrappers.servers.model_folder import (
    SeldonNotImplementedError,
    model_file,
    predict_or_bad_data,
    read_metadata,
)

MLMODEL_FILE = "MLmodel"
XTYPES = ("ndarray", "dataframe")


class MLFlowServer:
    def __init__(self, model_uri: str, xtype: str = "ndarray"):
        if xtype not in XTYPES:
            raise SeldonError(f"xtype {xtype!r} is not one of {', '.join(XTYPES)}", reason=BAD_PARAMETER)
        model_file(model_uri, (MLMODEL_FILE,))
        self.model_uri = model_uri
        self.xtype = xtype
        self.column_names: list[str] | None = None
        self._model: Any = None

    def load(self) -> None:
        """In each worker process (after the fork), as Seldon's server loads it."""
        self._model = pyfunc.load_model(self.model_uri)

    def predict(self, X: Any, feature_names: list[str] | None = None, meta: dict | None = None) -> Any:
        if self._model is None:
            self.load()
        if self.xtype == "dataframe":
            import pandas

            X = pandas.DataFrame(data=X, columns=list(feature_names) if feature_names else None)
        result = predict_or_bad_data(self._model.predict, X, "MLFLOW_SERVER")
        columns = getattr(result, "columns", None)
        if columns is not None:
            self.column_names = [str(c) for c in columns]
            result = result.to_numpy()
        return result

    def class_names(self) -> list[str]:
        if self.column_names is None:
            raise SeldonNotImplementedError("the prediction was not a DataFrame")
        return self.column_names

    def init_metadata(self) -> dict:
        return read_metadata(self.model_uri)
