"""Hypothesis strategies for HTTP requests, good and bad, and the invariants every REST front must keep."""

from __future__ import annotations

import gzip
import json
import string
import zlib
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.http_servers import answers, send_raw

# few examples, no shrinking database, the same examples on every run: bounded time on a busy CI machine
BOUNDED = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)

TOKEN = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
METHODS = st.sampled_from(["GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH"]) | st.text(
    alphabet=string.ascii_uppercase, min_size=1, max_size=8
)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/json; charset=utf-8", ""]
)
HEADER_VALUES = st.binary(max_size=40) | st.text(alphabet=string.printable, max_size=40).map(str.encode)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-1000, 1000)
DATA = st.fixed_dictionaries(
    {},
    optional={
        "names": st.lists(st.text(max_size=5), max_size=3) | JSON_VALUES,
        "ndarray": st.lists(st.lists(NUMBERS | st.text(max_size=3), max_size=3), max_size=3) | JSON_VALUES,
        "tensor": st.fixed_dictionaries(
            {}, optional={"shape": st.lists(st.integers(-2, 4), max_size=3) | JSON_VALUES, "values": JSON_VALUES}
        ),
        "tftensor": JSON_VALUES,
    },
)
MESSAGES = st.fixed_dictionaries(
    {},
    optional={
        "data": DATA | JSON_VALUES,
        "strData": st.text(max_size=10) | JSON_VALUES,
        "binData": st.sampled_from(["aGk=", "!!", ""]) | JSON_VALUES,
        "jsonData": JSON_VALUES,
        "meta": st.fixed_dictionaries(
            {},
            optional={
                "puid": st.text(max_size=20) | JSON_VALUES,
                "tags": JSON_VALUES,
                "routing": JSON_VALUES,
                "requestPath": JSON_VALUES,
                "metrics": JSON_VALUES,
            },
        )
        | JSON_VALUES,
        "request": JSON_VALUES,
        "response": JSON_VALUES,
        "reward": NUMBERS | JSON_VALUES,
        "truth": JSON_VALUES,
        "seldonMessages": st.lists(JSON_VALUES, max_size=3) | JSON_VALUES,
        "status": JSON_VALUES,
    },
)


def _json_text(value) -> bytes:
    return json.dumps(value).encode()


BODIES = (
    MESSAGES.map(_json_text)
    | JSON_VALUES.map(_json_text)
    | MESSAGES.map(lambda m: b"json=" + quote(json.dumps(m)).encode())
    | st.binary(max_size=200)
    | MESSAGES.map(_json_text).flatmap(lambda b: st.integers(0, max(0, len(b) - 1)).map(lambda n: b[:n]))
)
ENCODINGS = st.sampled_from([None, "gzip", "deflate", "br", "gzip, deflate", "GZIP"])
FRAMINGS = st.sampled_from(["length", "chunked", "none", "length+chunked", "double-length", "short-length", "long"])


@st.composite
def requests_on(draw, paths: list[str]) -> tuple[bytes, int]:
    """(raw bytes of one request, well or badly framed, over `paths` or random ones; how many bytes in it)."""
    method = draw(METHODS)
    path = draw(st.sampled_from(paths) | st.text(alphabet=string.printable, min_size=1, max_size=20))
    query = draw(st.none() | st.sampled_from(["json=%7B%7D", "json=", "a=1&json=[1]", "%zz"]))
    target = (path if path.startswith("/") else "/" + path) + (f"?{query}" if query else "")
    body = draw(BODIES)
    encoding = draw(ENCODINGS)
    if encoding in ("gzip", "GZIP"):
        body = gzip.compress(body) if draw(st.booleans()) else body
    elif encoding == "deflate":
        body = zlib.compress(body) if draw(st.booleans()) else body
    headers = [b"Host: fuzz"]
    content_type = draw(CONTENT_TYPES)
    if content_type:
        headers.append(b"Content-Type: " + content_type.encode())
    if encoding:
        headers.append(b"Content-Encoding: " + encoding.encode())
    for name, value in draw(
        st.lists(st.tuples(st.text(alphabet=TOKEN, min_size=1, max_size=12), HEADER_VALUES), max_size=3)
    ):
        headers.append(name.encode() + b": " + value)
    framing = draw(FRAMINGS)
    payload = body
    if framing in ("length", "length+chunked", "double-length", "short-length", "long"):
        length = {"short-length": max(0, len(body) - 1), "long": len(body) + 5}.get(framing, len(body))
        headers.append(b"Content-Length: %d" % length)
        if framing == "double-length":
            headers.append(b"Content-Length: %d" % (length + 1))
    if framing in ("chunked", "length+chunked"):
        headers.append(b"Transfer-Encoding: chunked")
        size = draw(st.integers(1, 64))
        pieces = [body[i : i + size] for i in range(0, len(body), size)]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.2", b"HTTP/2"]))
    head = b"%s %s %s\r\n" % (method.encode(), target.encode("utf-8", "replace"), version)
    return head + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + payload, len(payload)


@st.composite
def split(draw, raw: bytes) -> list[bytes]:
    """`raw` cut at a few random places: each part is one write, so the server reads it in pieces."""
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(raw) - 1)), max_size=4))))
    parts, start = [], 0
    for cut in cuts:
        parts.append(raw[start:cut])
        start = cut
    parts.append(raw[start:])
    return [part for part in parts if part]


def assert_served_without_5xx(port: int, parts: list[bytes], alive_path: str, timeout: float = 15.0) -> None:
    """The invariants: an answer (or a close) within the timeout, every answer well-framed HTTP with a status
    below 500, and the server still answering `alive_path` afterwards."""
    data = send_raw(port, parts, timeout=timeout, idle=0.5)
    found = answers(data)
    assert all(code < 500 for code in found.codes), (found.codes, found.bodies)
    alive = answers(send_raw(port, [b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % alive_path.encode()], timeout=timeout))
    assert alive.codes == [200], alive.codes
