"""Strict framing and limits of the shared HTTP/1.1 server: the classic request-smuggling shapes (CL.TE, TE.CL,
TE.TE, duplicate or malformed Content-Length, malformed chunks) are refused with a 400 and a close, so a request
hidden in a body is never answered; heads, bodies and inflated bodies over their limits get 431 and 413."""

import argparse
import gzip
import json
import zlib

import numpy as np
import orjson
import pytest

from seldon_graph.http11 import Limits, Response, render
from tests.support.http_servers import running_server, send_raw, statuses
from tests.support.smuggling import TE_SPELLINGS, attacks

pytestmark = pytest.mark.e2e

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
ATTACKS = {
    "CL.TE": b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
    "TE.CL": b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
    b"2a\r\n" + SMUGGLED + b"\r\n0\r\n\r\n",
    "CL.CL": b"POST /a HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 35\r\n\r\n" + SMUGGLED,
    "CL.CL same": b"POST /a HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
    "CL list": b"POST /a HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nab",
    "CL plus": b"POST /a HTTP/1.1\r\nContent-Length: +2\r\n\r\nab",
    "CL underscore": b"POST /a HTTP/1.1\r\nContent-Length: 1_0\r\n\r\nab",
    "CL hex": b"POST /a HTTP/1.1\r\nContent-Length: 0x2\r\n\r\nab",
    "CL negative": b"POST /a HTTP/1.1\r\nContent-Length: -1\r\n\r\nab",
    "CL space inside": b"POST /a HTTP/1.1\r\nContent-Length: 1 0\r\n\r\nab",
    "chunk size 0x": b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n0\r\n\r\n",
    "chunk size negative": b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nab\r\n0\r\n\r\n",
    "chunk size overflow": b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nab\r\n",
    "chunk without CRLF": b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n" + SMUGGLED,
    "chunk bare LF": b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\n0\n\n" + SMUGGLED,
    "chunked not final": b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "TE without chunked": b"POST /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n" + SMUGGLED,
    "bare LF head": b"POST /a HTTP/1.1\nContent-Length: 0\n\n" + SMUGGLED,
    "NUL in value": b"GET /a HTTP/1.1\r\nX: a\x00b\r\n\r\n" + SMUGGLED,
    "CR in value": b"GET /a HTTP/1.1\r\nX: a\rb\r\n\r\n" + SMUGGLED,
    "space in name": b"GET /a HTTP/1.1\r\nContent Length: 3\r\n\r\n" + SMUGGLED,
    "HTTP/2.0": b"GET /a HTTP/2.0\r\n\r\n" + SMUGGLED,
    "HTTP/0.9": b"GET /a HTTP/0.9\r\n\r\n" + SMUGGLED,
}


@pytest.fixture(scope="module")
def port():
    with running_server() as served:
        yield served


def assert_refused(port: int, raw: bytes) -> bytes:
    """One 400 with the status body, the connection closed, nothing after it answered; the server still serves."""
    answer = send_raw(port, [raw + SMUGGLED])
    assert statuses(answer) == [400], answer
    assert b"Connection: close" in answer and b"/smuggled" not in answer
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["status"]["info"].startswith("Bad request: ")
    assert statuses(send_raw(port, [b"GET /still HTTP/1.1\r\nHost: x\r\n\r\n"])) == [200]
    return answer


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_smuggling_shapes_are_refused(port, name):
    assert_refused(port, ATTACKS[name])


@pytest.mark.parametrize("name", sorted(attacks(b"/a", SMUGGLED)))
def test_classic_smuggling_requests_are_refused(port, name):
    assert_refused(port, attacks(b"/a", SMUGGLED)[name])


@pytest.mark.parametrize("te", TE_SPELLINGS, ids=range(len(TE_SPELLINGS)))
def test_transfer_encoding_with_content_length_is_refused_however_it_is_spelled(port, te):
    """TE.TE: whichever spelling a front end might read as chunked, with a Content-Length it is refused."""
    body = b"0\r\n\r\n"
    for order in (
        b"Content-Length: %d\r\n%s\r\n" % (len(body), te),
        b"%s\r\nContent-Length: %d\r\n" % (te, len(body)),
    ):
        assert_refused(port, b"POST /a HTTP/1.1\r\nHost: x\r\n" + order + b"\r\n" + body)


def test_chunked_alone_and_pipelined_requests_are_served(port):
    chunked = b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"
    plain = b"POST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nde"
    answer = send_raw(port, [chunked + plain + b"GET /c HTTP/1.1\r\n\r\n"])
    assert statuses(answer) == [200, 200, 200]
    assert answer.count(b"abc") == 1 and answer.count(b"de") == 1 and answer.endswith(b"/c")


def test_each_byte_in_its_own_read_parses_the_same(port):
    raw = b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    answer = send_raw(port, [raw[i : i + 1] for i in range(len(raw))], timeout=10)
    assert statuses(answer) == [200] and answer.endswith(b"abcde")


SMALL = Limits(max_head=1024, max_body=1000, max_decompressed=2000)


@pytest.fixture(scope="module")
def small():
    with running_server(limits=SMALL) as served:
        yield served


def _refused_with(port: int, parts: list[bytes], status: int) -> dict:
    answer = send_raw(port, parts)
    assert statuses(answer) == [status], answer
    assert b"Connection: close" in answer
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])["status"]


def test_a_head_over_the_limit_is_431_however_it_arrives(small):
    big = b"GET /a HTTP/1.1\r\nX-A: " + b"a" * 2000 + b"\r\n\r\n"
    assert "too large" in _refused_with(small, [big], 431)["info"]
    assert "too large" in _refused_with(small, [big[i : i + 100] for i in range(0, len(big), 100)], 431)["info"]
    endless = [b"GET /a HTTP/1.1\r\n"] + [b"X-B: " + b"b" * 200 + b"\r\n"] * 20
    _refused_with(small, endless, 431)


def test_a_body_over_the_limit_is_413_before_it_is_read(small):
    status = _refused_with(small, [b"POST /a HTTP/1.1\r\nContent-Length: 1001\r\n\r\n"], 413)
    assert "Payload too large" in status["info"] and "1000" in status["info"]
    chunks = b"".join(b"64\r\n" + b"x" * 100 + b"\r\n" for _ in range(11)) + b"0\r\n\r\n"
    _refused_with(small, [b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", chunks], 413)
    exact = send_raw(small, [b"POST /a HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + b"y" * 1000])
    assert statuses(exact) == [200] and b"X-Got: 1000" in exact


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_body_that_inflates_past_the_limit_is_413(small, encoding):
    pack = gzip.compress if encoding == "gzip" else zlib.compress
    bomb = pack(b"0" * 100_000)
    head = b"POST /a HTTP/1.1\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (encoding.encode(), len(bomb))
    assert "inflates past the limit of 2000" in _refused_with(small, [head + bomb], 413)["info"]
    fits = pack(b"1" * 2000)
    head = b"POST /a HTTP/1.1\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (encoding.encode(), len(fits))
    answer = send_raw(small, [head + fits])
    assert statuses(answer) == [200] and b"X-Got: 2000" in answer
    truncated = pack(b"1" * 2000)[:-6]
    head = b"POST /a HTTP/1.1\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (
        encoding.encode(),
        len(truncated),
    )
    assert "not valid" in _refused_with(small, [head + truncated], 400)["info"]


def test_the_default_limits_carry_a_million_float_tensor_as_json():
    tensor = orjson.dumps(
        {"data": {"ndarray": np.random.default_rng(0).random((1000, 1000))}}, option=orjson.OPT_SERIALIZE_NUMPY
    )
    limits = Limits()
    assert len(tensor) < limits.max_body and len(tensor) < limits.max_decompressed
    with running_server() as port:
        head = b"POST /a HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
        packed = gzip.compress(tensor, compresslevel=1)
        answer = send_raw(port, [head % len(packed), packed], timeout=60, idle=5)
    assert statuses(answer) == [200] and b"X-Got: %d" % len(tensor) in answer


def test_render_refuses_cr_lf_nul_and_non_latin1_header_values():
    for value in ("a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b", "\u0100"):
        with pytest.raises(ValueError, match="not a safe header value"):
            render(Response(headers={"X-Echo": value}), True, False, b"now")
    assert b"\r\nX-Echo: caf\xe9\t1\r\n" in render(Response(headers={"X-Echo": "caf\xe9\t1"}), True, False, b"now")[0]


def test_an_application_that_sets_an_unsafe_header_answers_500_without_it():
    with running_server(lambda request: Response(200, b"{}", headers={"X-Bad": "1\r\nX-Injected: yes"})) as port:
        answer = send_raw(port, [b"GET /a HTTP/1.1\r\n\r\n"])
    assert statuses(answer) == [500] and b"X-Injected" not in answer and b"unsafe response header" in answer


def test_limits_from_the_environment_and_the_flags(monkeypatch):
    env = {"SELDON_HTTP_MAX_BODY_BYTES": "5000", "SELDON_HTTP_MAX_HEADER_BYTES": " 2048 "}
    assert Limits.from_env(env) == Limits(max_head=2048, max_body=5000)
    with pytest.raises(ValueError, match="SELDON_HTTP_MAX_BODY_BYTES='-1' must be positive"):
        Limits.from_env({"SELDON_HTTP_MAX_BODY_BYTES": "-1"})
    monkeypatch.setenv("SELDON_HTTP_MAX_DECOMPRESSED_BYTES", "7000")
    parser = argparse.ArgumentParser()
    Limits.add_flags(parser)
    assert Limits.from_args(parser.parse_args(["--max-body-bytes", "9000"])) == Limits(
        max_body=9000, max_decompressed=7000
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["--max-header-bytes", "lots"])
