"""Structural check of a SeldonDeployment document against the CRD's schema (schema.json).

Catches what the API server would prune or reject — unknown fields, wrong types, missing required fields —
and names each by its field path (`spec.predictors[0].graph.children[1].typo`), so a typo in a YAML file is
reported instead of silently ignored. Explicit nulls are accepted as "not set", as the API server does.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

_TYPES = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
}


@functools.cache
def schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8"))


def _resolve(node: dict) -> dict:
    ref = node.get("$ref")
    return schema()["definitions"][ref] if ref else node


def _type_ok(value, node: dict) -> bool:
    if "anyOf" in node:
        return any(_type_ok(value, option) for option in node["anyOf"])
    kind = node.get("type")
    if kind is None:
        return True
    if kind in ("integer", "number"):
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (kind == "number" and isinstance(value, float))
    return isinstance(value, _TYPES[kind])


def _describe(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def check(value, node: dict, path: str, errors: list[str]) -> None:
    """Append to `errors` one message per structural problem of `value` under schema `node` at `path`."""
    node = _resolve(node)
    if value is None:
        return
    if not _type_ok(value, node):
        wanted = node.get("type") or "integer or string"
        errors.append(f"{path}: expected {wanted}, got {_describe(value)}")
        return
    if isinstance(value, dict):
        _check_object(value, node, path, errors)
    elif isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            check(item, node["items"], f"{path}[{index}]", errors)


def _check_object(value: dict, node: dict, path: str, errors: list[str]) -> None:
    properties = node.get("properties")
    extra = node.get("additionalProperties")
    open_object = node.get("x-kubernetes-preserve-unknown-fields") or (properties is None and extra is None)
    for key in node.get("required", ()):
        if key not in value:
            errors.append(f"{_join(path, key)}: required field is missing")
    for key, item in value.items():
        if not isinstance(key, str):
            errors.append(f"{path}: field names must be strings, got {key!r}")
        elif properties is not None and key in properties:
            check(item, properties[key], _join(path, key), errors)
        elif isinstance(extra, dict):
            check(item, extra, _join(path, key), errors)
        elif not open_object:
            errors.append(f"{_join(path, key)}: unknown field")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def check_document(doc: dict) -> list[str]:
    """Every structural problem of a whole SeldonDeployment document."""
    errors: list[str] = []
    check(doc, schema()["root"], "", errors)
    return errors


def check_predictor(doc: dict, path: str = "") -> list[str]:
    """Every structural problem of a lone PredictorSpec."""
    errors: list[str] = []
    check(doc, {"$ref": "PredictorSpec"}, path, errors)
    return errors
