"""SeldonComponent, SeldonResponse and SeldonNotImplementedError with seldon-core's interface.

Every optional method of SeldonComponent raises SeldonNotImplementedError, which the wrapper reads as "this
class does not define it" and falls back to the default behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from seldon_core.flask_utils import SeldonMicroserviceException

from seldon_graph.wrappers.user_model import SeldonResponse

__all__ = ["SeldonComponent", "SeldonNotImplementedError", "SeldonResponse"]


class SeldonNotImplementedError(SeldonMicroserviceException):
    status_code = 400


def _not_implemented(name: str) -> Callable[..., NoReturn]:
    def method(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise SeldonNotImplementedError(f"{name} is not implemented")

    method.__name__ = name
    return method


class SeldonComponent:
    """Base class some seldon-core models inherit; all hooks are optional."""

    def __init__(self, **kwargs: Any):
        pass

    def load(self) -> None:
        pass


OPTIONAL_METHODS = (
    "tags",
    "class_names",
    "predict",
    "predict_raw",
    "send_feedback_raw",
    "transform_input",
    "transform_input_raw",
    "transform_output",
    "transform_output_raw",
    "metrics",
    "feature_names",
    "send_feedback",
    "route",
    "route_raw",
    "aggregate",
    "aggregate_raw",
    "health_status",
    "health_status_raw",
    "metadata",
    "init_metadata",
)
for _name in OPTIONAL_METHODS:
    setattr(SeldonComponent, _name, _not_implemented(_name))
