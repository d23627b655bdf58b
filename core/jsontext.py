"""JSON as Seldon's peers read and write it: the literals NaN, Infinity and -Infinity are numbers.

Python clients (json.dumps) send them and seldon-core's wrapper answers with them, so refusing them breaks
drop-in use. orjson does the work; only a document orjson refuses is parsed again by the standard library, and
only an output with `null` in it (where orjson writes a non-finite float) is checked and, if a non-finite float
is the cause, written again by the standard library. Documents without those literals cost what they did.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import orjson

JSONDecodeError = json.JSONDecodeError  # what `loads` raises; orjson's error is a subclass
_NULL = b"null"


def loads(raw: bytes | bytearray | memoryview | str) -> Any:
    """The value of a JSON document; NaN, Infinity and -Infinity are floats. A JSONDecodeError (orjson's, which
    says where) when neither parser accepts it."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as refused:
        try:
            text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8")
            return json.loads(text)
        except (ValueError, RecursionError):
            raise refused from None


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """JSON bytes of `value` (numpy arrays included); a non-finite float is written NaN, Infinity or -Infinity."""
    out = orjson.dumps(value, default=default, option=orjson.OPT_SERIALIZE_NUMPY)
    if _NULL not in out or not has_non_finite(value):
        return out
    text = json.dumps(value, default=_plain(default), allow_nan=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def has_non_finite(value: Any) -> bool:
    """Whether a NaN or an infinity is somewhere in `value` (dicts, lists, tuples, numpy arrays and scalars)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(has_non_finite(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_non_finite(item) for item in value)
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind in ("f", "c"):
        import numpy as np

        return not bool(np.isfinite(value).all())
    if kind == "O":
        return any(has_non_finite(item) for item in value.tolist())
    return False


def _plain(default: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """The standard library's `default`: numpy values as Python ones, then the caller's `default`."""

    def convert(value: Any) -> Any:
        if hasattr(value, "tolist") and hasattr(value, "dtype"):
            return value.tolist()
        if default is not None:
            return default(value)
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    return convert
