"""XGBOOST_SERVER: an XGBoost Booster saved as `model.bst` (Seldon's file name) or `model.json`, predicting on a
DMatrix of the request's features."""

from __future__ import annotations

from typing import Any

import xgboost

from seldon_graph.wrappers.servers.model_folder import model_file, predict_or_bad_data, read_metadata

BOOSTER_FILES = ("model.bst", "model.json", "model.ubj")


class XGBoostServer:
    """The booster is loaded by `load`, in each worker process: XGBoost's OpenMP threads do not survive a fork."""

    def __init__(self, model_uri: str):
        self.model_uri = model_uri
        self.model_path = model_file(model_uri, BOOSTER_FILES)
        self._booster: xgboost.Booster | None = None

    def load(self) -> None:
        self._booster = self._read_booster()

    def _read_booster(self) -> xgboost.Booster:
        return xgboost.Booster(model_file=self.model_path)

    def predict(self, X: Any, names: Any = None, meta: dict | None = None) -> Any:
        booster = self._booster
        if booster is None:
            booster = self._booster = self._read_booster()
        return predict_or_bad_data(lambda x: booster.predict(xgboost.DMatrix(x)), X, "XGBOOST_SERVER")

    def init_metadata(self) -> dict:
        return read_metadata(self.model_uri)
