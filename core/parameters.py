"""PREDICTIVE_UNIT_PARAMETERS: the `parameters` of a graph node, turned into typed Python values.

The operator passes a node's parameters to its container as a JSON list of {name, value, type}; the wrapper
hands them to the user's class as constructor keyword arguments, and the engine's built-in units read them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from seldon_graph.errors import BAD_PARAMETER, SeldonError

TRUE_VALUES = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = {"n", "no", "f", "false", "off", "0"}


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_VALUES:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"invalid truth value {value!r}")


def _to_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "INT": int,
    "FLOAT": float,
    "DOUBLE": float,
    "STRING": str,
    "BOOL": _to_bool,
    "JSON": _to_json,
}


def convert(name: str, value: Any, type_name: str) -> Any:
    """One parameter's value as its declared type; a SeldonError that names the parameter otherwise."""
    converter = CONVERTERS.get(type_name)
    if converter is None:
        raise SeldonError(
            f"Bad model parameter type: {type_name} for parameter {name}; valid are {', '.join(CONVERTERS)}",
            400,
            BAD_PARAMETER,
        )
    try:
        return converter(value)
    except (TypeError, ValueError) as exc:
        raise SeldonError(
            f"Bad model parameter: {name} with value {value} can't be parsed as a {type_name} ({exc})",
            400,
            BAD_PARAMETER,
        ) from exc


def parse_parameters(parameters: str | list | None) -> dict[str, Any]:
    """The parameters list (JSON text or already-parsed list) as a {name: typed value} dict."""
    if parameters is None or parameters == "":
        return {}
    if isinstance(parameters, str):
        try:
            parameters = json.loads(parameters)
        except ValueError as exc:
            raise SeldonError(f"Bad model parameters: not a JSON list ({exc})", 400, BAD_PARAMETER) from exc
    if not isinstance(parameters, list):
        raise SeldonError("Bad model parameters: expected a JSON list of {name, value, type}", 400, BAD_PARAMETER)
    result = {}
    for index, item in enumerate(parameters):
        if not isinstance(item, dict) or "name" not in item or "value" not in item:
            raise SeldonError(
                f"Bad model parameter at index {index}: expected an object with name, value and type, got {item!r}",
                400,
                BAD_PARAMETER,
            )
        result[item["name"]] = convert(item["name"], item["value"], item.get("type", "STRING"))
    return result
