"""The child index in a router's reply, read the way Seldon v1 reads it.

The first element counts: `ndarray` (`[[1]]`, `[2]`), `tensor.values`, `tftensor.intVal`, or a bare JSON array;
floats are truncated; a reply without `data` means "all children" (-1). Anything unreadable is a 500 naming the
router, never a crash.
"""

from __future__ import annotations

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from seldon_graph.errors import ENGINE_INVALID_ROUTING, SeldonError
from seldon_graph.proto import prediction_pb2 as pb

ALL_CHILDREN = -1
NO_CHILDREN = -2


def decode_reply(node: str, wire: str, raw: bytes) -> object:
    """A router's whole reply, decoded (it is small): JSON for REST units, a SeldonMessage for gRPC ones."""
    try:
        if wire == "json":
            return orjson.loads(raw)
        return json_format.MessageToDict(pb.SeldonMessage.FromString(raw))
    except (orjson.JSONDecodeError, DecodeError) as exc:
        raise _invalid(node, f"unreadable reply ({exc})") from exc


def route_from_reply(node: str, reply: object) -> int:
    """The route in a decoded router reply (a SeldonMessage dict or a bare list)."""
    if isinstance(reply, list):
        values = reply
    elif isinstance(reply, dict):
        data = reply.get("data")
        if not isinstance(data, dict):
            return ALL_CHILDREN
        if "ndarray" in data:
            values = data["ndarray"]
        elif "tensor" in data:
            values = (data["tensor"] or {}).get("values") or []
        elif "tftensor" in data:
            values = (data["tftensor"] or {}).get("intVal") or []
        else:
            return ALL_CHILDREN
    else:
        raise _invalid(node, f"unexpected reply {reply!r}")
    if not isinstance(values, list) or not values:
        raise _invalid(node, "the reply holds no route value")
    first = values[0]
    if isinstance(first, list):
        first = first[0] if first else None
    if isinstance(first, str):
        try:
            first = float(first)
        except ValueError:
            first = None
    if isinstance(first, bool) or not isinstance(first, (int, float)):
        raise _invalid(node, f"route value {values[0]!r} is not a number")
    return int(first)


def _invalid(node: str, detail: str) -> SeldonError:
    return SeldonError(f"Router '{node}' gave an invalid route: {detail}", 500, ENGINE_INVALID_ROUTING)
