"""Property tests of the shared HTTP/1.1 server: random and malformed requests, split across reads, never get a
5xx or an unframed answer, never hang, and the server keeps serving; a well-framed request is read exactly."""

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.fuzz import BOUNDED, assert_served_without_5xx, requests_on, split
from tests.support.http_servers import answers, running_server, send_raw

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def port():
    with running_server() as served:
        yield served


@BOUNDED
@given(data=st.data())
def test_random_requests_split_across_reads(port, data):
    raw, _ = data.draw(requests_on(["/echo", "/async"]))
    extra = data.draw(st.sampled_from([b"", b"GET /next HTTP/1.1\r\n\r\n", b"\r\n"]))
    assert_served_without_5xx(port, data.draw(split(raw + extra)), "/alive")


@BOUNDED
@given(data=st.data())
def test_random_bytes_after_a_request_line(port, data):
    prefix = data.draw(st.sampled_from([b"", b"GET / HTTP/1.1\r\n", b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\n"]))
    garbage = data.draw(st.binary(min_size=1, max_size=300))
    assert_served_without_5xx(port, data.draw(split(prefix + garbage)), "/alive")


@BOUNDED
@given(
    body=st.binary(max_size=2000),
    chunk=st.integers(1, 700),
    compressed=st.booleans(),
    data=st.data(),
)
def test_well_framed_bodies_arrive_exactly(port, body, chunk, compressed, data):
    sent = gzip.compress(body) if compressed else body
    encoding = b"Content-Encoding: gzip\r\n" if compressed else b""
    if data.draw(st.booleans()):
        framed = b"Content-Length: %d\r\n\r\n%s" % (len(sent), sent)
    else:
        pieces = [sent[i : i + chunk] for i in range(0, len(sent), chunk)]
        framed = b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
        framed += b"0\r\n\r\n"
    raw = b"POST /echo HTTP/1.1\r\nHost: x\r\n" + encoding + framed
    found = answers(send_raw(port, data.draw(split(raw + raw)), timeout=10, idle=0.5))
    assert found.codes == [200, 200]
    assert found.bodies == [body or b"/echo"] * 2
