"""multipart/form-data requests as seldon-core reads them (`curl -F data=... -F binData=@file`).

Every form field is a SeldonMessage key whose value is JSON, except `strData`, which is taken as text. Every
file part is a key too: a `binData` file becomes its base64 bytes (what the proto JSON form of bytes expects),
any other file its UTF-8 text. Of parts with the same name the first counts, and a file overrides a field.
"""

from __future__ import annotations

import base64
from email.message import Message
from email.parser import BytesHeaderParser
from typing import NamedTuple

import orjson

from seldon_graph.errors import BAD_DATA, SeldonError

MULTIPART = "multipart/form-data"


class Part(NamedTuple):
    """One part of the body: its form name, whether it was sent as a file, its bytes."""

    name: str
    is_file: bool
    content: bytes


def _content_type(value: str) -> Message:
    header = Message()
    header["content-type"] = value
    return header


def _bad(info: str) -> SeldonError:
    return SeldonError(f"Invalid multipart/form-data request: {info}", 400, BAD_DATA)


def parts(body: bytes, content_type: str) -> list[Part]:
    """The named parts of a multipart/form-data body (RFC 7578), in order."""
    boundary = _content_type(content_type).get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise _bad("the Content-Type has no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise _bad(f"no part delimited by {delimiter.decode('latin-1')!r}")
    found = []
    for chunk in chunks[1:-1]:  # before the first delimiter is the preamble, after the last "--" the epilogue
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise _bad("a part has no blank line after its headers")
        headers = BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise _bad("a part has no Content-Disposition name")
        is_file = headers.get_param("filename", header="content-disposition") is not None
        found.append(Part(name, is_file, content))
    return found


def _text(part: Part) -> str:
    try:
        return part.content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(f"{part.name!r} is not UTF-8 text ({exc})") from exc


def request_from_parts(body: bytes, content_type: str) -> dict:
    """The request message seldon-core builds from the form: fields first, then files."""
    fields: dict[str, Part] = {}
    files: dict[str, Part] = {}
    for part in parts(body, content_type):
        (files if part.is_file else fields).setdefault(part.name, part)
    message: dict = {}
    for name, part in fields.items():
        if name == "strData":
            message[name] = _text(part)
            continue
        try:
            message[name] = orjson.loads(part.content)
        except orjson.JSONDecodeError as exc:
            raise _bad(f"field {name!r} is not JSON ({exc})") from exc
    for name, part in files.items():
        message[name] = base64.b64encode(part.content) if name == "binData" else _text(part)
    return message
