"""Protobuf wire-format pieces for code that builds serialized messages from bytes instead of proto objects.

The wrapper packs big tensors (numpy_codec) and the engine re-assembles messages around their meta (engine
payload) without a Python object per value; both need the same base-128 varint, written and read.
"""

from __future__ import annotations

_UINT64 = (1 << 64) - 1


def encode_varint(value: int) -> bytes:
    """A varint; a negative value is written as its 64-bit two's complement, as protobuf writes int32/int64."""
    value &= _UINT64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(raw: bytes, index: int) -> tuple[int, int]:
    """The varint at `index` and the index after it; an IndexError when `raw` ends inside it (callers turn that
    into their own error for bytes that are not protobuf)."""
    result = shift = 0
    while True:
        byte = raw[index]
        index += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, index
        shift += 7
