"""Rewrite the top-level fields of a serialized protobuf message without decoding it.

Chaining a V2 ModelInferResponse into the next ModelInferRequest (or a TensorFlow PredictResponse into a
PredictRequest) moves fields to other numbers whose contents have the same layout; a tensor is never decoded.
"""

from __future__ import annotations

from typing import NamedTuple

from seldon_graph.errors import BAD_DATA, SeldonError
from seldon_graph.protowire import decode_varint, encode_varint


class Field(NamedTuple):
    number: int
    wire_type: int
    start: int  # where the field's key begins
    value_start: int  # where its value (after the key, and the length for wire type 2) begins
    end: int


def fields(raw: bytes) -> list[Field]:
    """The top-level fields of a serialized message, in order; a 400 when the bytes are not protobuf."""
    found, index, size = [], 0, len(raw)
    try:
        while index < size:
            start = index
            key, index = decode_varint(raw, index)
            wire = key & 7
            if wire == 2:
                length, index = decode_varint(raw, index)
                value_start, index = index, index + length
            elif wire == 0:
                value_start = index
                _, index = decode_varint(raw, index)
            elif wire in (1, 5):
                value_start, index = index, index + (8 if wire == 1 else 4)
            else:
                raise ValueError(f"unsupported wire type {wire}")
            if index > size or key >> 3 == 0:
                raise ValueError("truncated or invalid field")
            found.append(Field(key >> 3, wire, start, value_start, index))
    except (IndexError, ValueError) as exc:
        raise SeldonError(f"Invalid protobuf message: {exc}", 400, BAD_DATA) from exc
    return found


def length_delimited(number: int, value: bytes) -> bytes:
    """One wire-type-2 field (a string, bytes or embedded message)."""
    return b"".join((encode_varint((number << 3) | 2), encode_varint(len(value)), value))


def rewrite(raw: bytes, moves: dict[int, int], drop: frozenset[int] = frozenset(), prefix: bytes = b"") -> bytes:
    """`prefix` + the fields of `raw` with numbers in `moves` renumbered and those in `drop` left out."""
    parts = [prefix]
    for item in fields(raw):
        if item.number in drop:
            continue
        target = moves.get(item.number)
        if target is None:
            parts.append(raw[item.start : item.end])
        else:
            parts.append(encode_varint((target << 3) | item.wire_type))
            parts.append(raw[item.value_start if item.wire_type != 2 else _length_start(raw, item) : item.end])
    return b"".join(parts)


def _length_start(raw: bytes, item: Field) -> int:
    """Where the length prefix of a wire-type-2 field begins (just after its key)."""
    _, index = decode_varint(raw, item.start)
    return index


def string_field(raw: bytes, number: int) -> str | None:
    """The last value of a top-level string field (protobuf's last-one-wins), None when absent."""
    value = None
    for item in fields(raw):
        if item.number == number and item.wire_type == 2:
            value = raw[item.value_start : item.end].decode("utf-8", errors="replace")
    return value


def has_field(raw: bytes, number: int) -> bool:
    return any(item.number == number for item in fields(raw))
