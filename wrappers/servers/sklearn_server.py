"""SKLEARN_SERVER: a joblib-saved scikit-learn model (`model.joblib`), answered with `method`: predict_proba
(the default), predict or decision_function."""

from __future__ import annotations

from typing import Any

import joblib

from seldon_graph.errors import BAD_PARAMETER, SeldonError
from seldon_graph.wrappers.servers.model_folder import model_file, predict_or_bad_data, read_metadata

JOBLIB_FILE = "model.joblib"
METHODS = ("predict_proba", "predict", "decision_function")


class SKLearnServer:
    def __init__(self, model_uri: str, method: str = "predict_proba"):
        if method not in METHODS:
            raise SeldonError(f"method {method!r} is not one of {', '.join(METHODS)}", reason=BAD_PARAMETER)
        self.model_uri = model_uri
        self.method = method
        self._model = joblib.load(model_file(model_uri, (JOBLIB_FILE,)))
        self.ready = True

    def predict(self, X: Any, names: Any = None, meta: dict | None = None) -> Any:
        return predict_or_bad_data(getattr(self._model, self.method), X, "SKLEARN_SERVER")

    def init_metadata(self) -> dict:
        return read_metadata(self.model_uri)
