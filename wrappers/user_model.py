"""The user's class as seldon-core sees it: which methods exist, how to call them, what a missing one means.

User classes are written for seldon-core and import nothing from us. They may inherit seldon-core's
SeldonComponent (whose methods raise SeldonNotImplementedError), return a SeldonResponse, and accept
`features_names` and `meta` or not; all of that is recognised by duck typing, decided once at startup.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

FeatureCall = Callable[[Any, list, dict | None], Any]  # (features, names, meta); meta is None when absent
# seldon-core's methods that still have `*_rest` (JSON) and `*_grpc` (proto) forms, deprecated for `*_raw`
LEGACY_METHODS = ("predict", "transform_input", "transform_output", "route", "aggregate", "send_feedback")
log = logging.getLogger(__name__)


class SeldonResponse:
    """A result with runtime tags and metrics, for classes that want them without importing seldon-core."""

    def __init__(self, data: Any, tags: dict | None = None, metrics: list | None = None):
        self.data = data
        self.tags = tags if tags is not None else {}
        self.metrics = metrics if metrics is not None else []


def is_not_implemented(exc: BaseException) -> bool:
    """True for seldon-core's SeldonNotImplementedError (the SeldonComponent base class's "no such method")."""
    return any(cls.__name__ == "SeldonNotImplementedError" for cls in type(exc).__mro__)


def is_seldon_exception(exc: BaseException) -> bool:
    """True for seldon-core's SeldonMicroserviceException and its subclasses: the only user exceptions whose
    `status_code` and `reason` choose the answer (seldon-core registers a Flask handler for that class alone)."""
    return any(cls.__name__ == "SeldonMicroserviceException" for cls in type(exc).__mro__)


def unpack(result: Any) -> tuple[Any, dict, list]:
    """(data, runtime tags, runtime metrics) of a user result, SeldonResponse or plain."""
    if type(result).__name__ == "SeldonResponse" and hasattr(result, "data"):
        return result.data, dict(getattr(result, "tags", None) or {}), list(getattr(result, "metrics", None) or [])
    return result, {}, []


def _feature_call(method: Callable) -> FeatureCall:
    """Call `method(X[, features_names][, meta=meta])` with as many arguments as its signature accepts."""
    try:
        params = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):

        def fallback(features: Any, names: list, meta: dict | None) -> Any:
            try:
                return method(features, names, meta=meta)
            except TypeError:
                return method(features, names)

        return fallback
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var_positional = any(p.kind == p.VAR_POSITIONAL for p in params)
    takes_meta = any(p.kind == p.VAR_KEYWORD for p in params) or any(
        p.name == "meta" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params
    )
    if len(positional) >= 2 or var_positional:
        if takes_meta:
            return lambda features, names, meta: method(features, names, meta=meta)
        return lambda features, names, meta: method(features, names)
    if takes_meta:
        return lambda features, names, meta: method(features, meta=meta)
    return lambda features, names, meta: method(features)


class UserModel:
    """The user's object with each optional seldon-core method resolved to a callable or None."""

    def __init__(self, obj: Any):
        self.obj = obj
        self.predict = self._feature_method("predict")
        self.transform_input = self._feature_method("transform_input")
        self.transform_output = self._feature_method("transform_output")
        self.route = self._feature_method("route")
        self.raw = {
            name: getattr(obj, name)
            for name in (
                "predict_raw",
                "transform_input_raw",
                "transform_output_raw",
                "route_raw",
                "aggregate_raw",
                "send_feedback_raw",
                "health_status_raw",
            )
            if callable(getattr(obj, name, None))
        }
        self.aggregate = self._method("aggregate")
        self.send_feedback = self._method("send_feedback")
        self.legacy = {
            f"{name}_{transport}": method
            for name in LEGACY_METHODS
            for transport in ("rest", "grpc")
            if (method := self._method(f"{name}_{transport}")) is not None
        }
        for legacy_name in self.legacy:
            log.warning("%s is deprecated. Please use %s_raw", legacy_name, legacy_name.rsplit("_", 1)[0])

    def legacy_method(self, name: str, proto: bool) -> Callable | None:
        """The deprecated `name_grpc` for a proto request, `name_rest` for a JSON one, if the class has it."""
        return self.legacy.get(f"{name}_grpc" if proto else f"{name}_rest")

    def _method(self, name: str) -> Callable | None:
        method = getattr(self.obj, name, None)
        return method if callable(method) else None

    def _feature_method(self, name: str) -> FeatureCall | None:
        method = self._method(name)
        return _feature_call(method) if method is not None else None

    def optional(self, name: str, default: Any) -> Any:
        """The result of the no-argument method `name` (tags, metrics, …), or `default` if it is not there."""
        method = getattr(self.obj, name, None)
        if method is None:
            return default
        if not callable(method):
            return method
        try:
            return method()
        except Exception as exc:
            if is_not_implemented(exc):
                return default
            raise

    def class_names(self, array_ndim: int, width: int) -> list:
        """Output column names: the class's `class_names()` for 2-D outputs, else `t:0…`; [] for 1-D."""
        if array_ndim < 2:
            return []
        names = self.optional("class_names", None)
        if names is None:
            return [f"t:{i}" for i in range(width)]
        return list(names)

    def load(self) -> None:
        load = getattr(self.obj, "load", None)
        if callable(load):
            try:
                load()
            except NotImplementedError:
                pass
