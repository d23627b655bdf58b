"""The unit's model metadata: defaults from the image, then the class's `init_metadata()`, then MODEL_METADATA.

Computed once at startup and validated with Seldon v1's rules; invalid metadata is logged and `/metadata`
answers 500 "Model metadata unavailable", as the original does.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import yaml

from seldon_graph.wrappers.settings import split_image
from seldon_graph.wrappers.user_model import UserModel

log = logging.getLogger(__name__)

ARRAY_TYPES = {"tensor", "ndarray", "tftensor"}
TENSOR_DATATYPES = {
    "BOOL",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "FP16",
    "FP32",
    "FP64",
    "BYTES",
}


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _ints(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)


def _valid_io(item: object) -> bool:
    """One entry of inputs/outputs: a Seldon message spec or a v2 tensor spec."""
    if not isinstance(item, dict):
        return False
    if "messagetype" in item:
        kind, schema = item["messagetype"], item.get("schema", {})
        if not isinstance(kind, str) or not set(item) <= {"messagetype", "schema"}:
            return False
        if kind in ("strData", "binData"):
            return set(item) == {"messagetype"}
        if not isinstance(schema, dict):
            return False
        if kind in ARRAY_TYPES:
            return (
                set(schema) <= {"names", "shape"}
                and _strings(schema.get("names", []))
                and _ints(schema.get("shape", []))
            )
        return True
    return (
        set(item) <= {"name", "datatype", "shape"}
        and isinstance(item.get("name", ""), str)
        and item.get("datatype", "BOOL") in TENSOR_DATATYPES
        and _ints(item.get("shape", []))
    )


def validate(meta: dict) -> bool:
    """Seldon v1's metadata schema: name, versions, platform, inputs, outputs, custom (string map)."""
    allowed = {"name", "versions", "platform", "inputs", "outputs", "custom"}
    if not set(meta) <= allowed:
        return False
    custom = meta["custom"]
    return (
        isinstance(meta["name"], str)
        and _strings(meta["versions"])
        and isinstance(meta["platform"], str)
        and isinstance(meta["inputs"], list)
        and all(_valid_io(i) for i in meta["inputs"])
        and isinstance(meta["outputs"], list)
        and all(_valid_io(o) for o in meta["outputs"])
        and isinstance(custom, dict)
        and all(isinstance(v, str) for v in custom.values())
    )


def model_metadata(user: UserModel, env: Mapping[str, str] | None = None) -> dict | None:
    """The validated metadata dict, or None when it is invalid."""
    settings: Mapping[str, str] = os.environ if env is None else env
    image = settings.get("PREDICTIVE_UNIT_IMAGE")
    name, version = split_image(image) if image is not None else ("", "")
    from_user = user.optional("init_metadata", {})
    if not isinstance(from_user, dict):
        log.error("init_metadata must return a dict, got %r", from_user)
        from_user = {}
    try:
        from_env = yaml.safe_load(settings.get("MODEL_METADATA", "{}")) or {}
    except yaml.YAMLError as exc:
        log.error("MODEL_METADATA is not valid YAML/JSON: %s", exc)
        from_env = {}
    if not isinstance(from_env, dict):
        from_env = {}
    meta = {
        "name": name,
        "versions": [version],
        "platform": "",
        "inputs": [],
        "outputs": [],
        "custom": {},
        **from_user,
        **from_env,
    }
    if not validate(meta):
        log.error("Model metadata is invalid, /metadata will answer 500: %r", meta)
        return None
    return meta
