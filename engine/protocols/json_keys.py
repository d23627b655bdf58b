"""Find and rename a top-level key of a JSON object without parsing the (possibly large) value that follows it.

Chaining a V2 or TensorFlow reply into the next request renames one key (`outputs` → `inputs`, `predictions` →
`instances`). The tensor after the key can be megabytes of numbers, so the key is located by a byte search and
proven to be top-level by parsing only what comes before it; anything unusual falls back to a full parse.
"""

from __future__ import annotations

import orjson

_WHITESPACE = b" \t\r\n"


def top_level_keys(document: bytes, limit: int = 64 * 1024) -> dict | None:
    """The decoded object when it is small enough to parse (None when it is larger or not a JSON object)."""
    if len(document) > limit:
        return None
    try:
        value = orjson.loads(document)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def find_key(document: bytes, key: str) -> int | None:
    """The offset of `"key"` when it is a member name of the top-level object, else None."""
    quoted = orjson.dumps(key)
    position = document.rfind(quoted)
    while position > 0:
        if _is_top_level_member(document, position, len(quoted)):
            return position
        position = document.rfind(quoted, 0, position)
    return None


def _is_top_level_member(document: bytes, position: int, length: int) -> bool:
    after = position + length
    while after < len(document) and document[after] in _WHITESPACE:
        after += 1
    if document[after : after + 1] != b":":
        return False
    before = position - 1
    while before >= 0 and document[before] in _WHITESPACE:
        before -= 1
    if before < 0:
        return False
    if document[before] == 0x7B:  # `{`: the first member, if that brace opens the document
        return not document[:before].strip()
    if document[before] != 0x2C:  # `,`: a later member, if the members before it close into one object
        return False
    try:
        return isinstance(orjson.loads(document[:before] + b"}"), dict)
    except orjson.JSONDecodeError:
        return False


def rename_key(document: bytes, old: str, new: str) -> bytes | None:
    """`document` with top-level key `old` renamed `new` (value bytes untouched); None when `old` is not there."""
    position = find_key(document, old)
    if position is not None:
        return b"".join((document[:position], orjson.dumps(new), document[position + len(old) + 2 :]))
    try:
        value = orjson.loads(document)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict) or old not in value:
        return None
    return orjson.dumps({(new if name == old else name): item for name, item in value.items()})


def has_key(document: bytes, key: str) -> bool:
    """Whether the JSON object has top-level `key` (parsing in full only when the byte search is unsure)."""
    if find_key(document, key) is not None:
        return True
    if orjson.dumps(key) not in document:
        return False
    try:
        value = orjson.loads(document)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and key in value
