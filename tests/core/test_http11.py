"""The shared HTTP/1.1 server on raw sockets: framing, keep-alive, pipelining, chunked bodies, bad requests, and
the three ways an application answers (inline, awaitable, offloaded to a thread), against a real listening socket."""

import asyncio
import gzip
import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from seldon_graph.http11 import HttpServer, Request, Response, listening_socket

BODY = b'{"data":{"ndarray":[[1,2]]}}'
TAIL = bytes(range(256)) * 1000


async def _slow(request: Request) -> Response:
    await asyncio.sleep(0.2)  # long enough that a shutdown begun 5 ms in finds it in flight, even on a loaded machine
    return Response(200, b"async:" + request.body)


async def _async_failure(request: Request) -> Response:
    await asyncio.sleep(0)
    raise RuntimeError("bug")


def app(request: Request):
    """/echo answers inline, /async with a coroutine, /thread runs on the pool; /fail and /async-fail are bugs."""
    if request.path == "/async":
        return _slow(request)
    if request.path == "/async-fail":
        return _async_failure(request)
    if request.path == "/fail":
        raise RuntimeError("bug")
    if request.path == "/thread":
        return Response(200, b"thread:" + threading.current_thread().name.encode())
    if request.path == "/tail":
        return Response(200, request.body, "application/octet-stream", tail=memoryview(TAIL)[1:])
    return Response(200, request.body or request.path.encode(), headers={"X-Query": request.query})


def error(status: int, info: str) -> Response:
    return Response(status, json.dumps({"status": {"code": -1, "info": info, "reason": "BAD", "status": 1}}).encode())


class Served:
    def __init__(self, port: int):
        self.http_port = port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"


@pytest.fixture(scope="module")
def server():
    """The server on its own event loop thread, as a process would run it."""
    loop = asyncio.new_event_loop()
    sock = listening_socket(0, "127.0.0.1")
    pool = ThreadPoolExecutor(2, thread_name_prefix="worker")
    http = HttpServer(app, error, lambda request: request.path == "/thread", pool)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(http.start(sock), loop).result(5)
    try:
        yield Served(sock.getsockname()[1])
    finally:
        asyncio.run_coroutine_threadsafe(http.shutdown(1), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        pool.shutdown()


def exchange(unit, raw: bytes, responses: int = 1) -> bytes:
    """Send `raw`, read until `responses` complete answers arrived (or the server closed)."""
    with socket.create_connection(("127.0.0.1", unit.http_port), timeout=5) as sock:
        sock.sendall(raw)
        data = b""
        while data.count(b"HTTP/1.") < responses or not _complete(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def _complete(data: bytes) -> bool:
    head, sep, body = data.rpartition(b"\r\n\r\n")
    if not sep:
        return False
    length = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")]
    return bool(length) and len(body) >= length[-1]


def post(path: bytes = b"/echo", extra: bytes = b"", body: bytes = BODY, version: bytes = b"HTTP/1.1") -> bytes:
    return (
        b"POST "
        + path
        + b" "
        + version
        + b"\r\nHost: x\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


def test_keep_alive_and_pipelining(server):
    answer = exchange(server, post() + post() + post(), responses=3)
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    assert answer.count(BODY) == 3
    assert b"Connection: close" not in answer


def test_pipelined_answers_keep_request_order_across_inline_async_and_threaded_apps(server):
    raw = post(b"/async", body=b"1") + post(body=b"2") + post(b"/thread", body=b"3") + post(b"/async", body=b"4")
    answer = exchange(server, raw, responses=4)
    bodies = [part.split(b"\r\n\r\n", 1)[1] for part in answer.split(b"HTTP/1.1 ")[1:]]
    assert [b.split(b":")[0] for b in bodies] == [b"async", b"2", b"thread", b"async"]
    assert bodies[0] == b"async:1" and bodies[3] == b"async:4" and bodies[2].startswith(b"thread:worker")


def test_application_bugs_are_500_with_the_error_body(server):
    for path in (b"/fail", b"/async-fail"):
        answer = exchange(server, post(path) + post(), responses=2)
        assert answer.startswith(b"HTTP/1.1 500"), path
        assert b'"info": "internal error"' in answer and answer.endswith(BODY)


def test_request_split_across_packets(server):
    raw = post()
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=5) as sock:
        for i in range(0, len(raw), 7):
            sock.sendall(raw[i : i + 7])
        data = b""
        while BODY not in data:
            data += sock.recv(4096)
    assert data.startswith(b"HTTP/1.1 200 OK")


def test_chunked_request_body(server):
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (BODY[:10], BODY[10:])) + b"0\r\n\r\n"
    with_trailer = chunks[:-2] + b"X-Trailer: 1\r\n\r\n"
    raw = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
        + chunks
    )
    assert exchange(server, raw + post(), responses=2).count(BODY) == 2
    trailed = raw.replace(chunks, with_trailer)
    assert exchange(server, trailed + post(), responses=2).count(BODY) == 2
    streamed = requests.post(
        server.url("/echo"), data=iter([BODY[:5], BODY[5:]]), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 200 and streamed.content == BODY


def test_connection_close_and_http10(server):
    closing = exchange(server, post(extra=b"Connection: close\r\n"))
    assert b"Connection: close" in closing and BODY in closing
    http10 = exchange(server, post(version=b"HTTP/1.0"))
    assert http10.startswith(b"HTTP/1.1 200") and b"Connection: close" in http10


def test_malformed_requests_get_400_with_the_error_body(server):
    for raw in (
        b"GARBAGE\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nbad header line\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabc\r\n",
        b"POST /echo HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
    ):
        answer = exchange(server, raw)
        assert answer.startswith(b"HTTP/1.1 400"), raw
        status = json.loads(answer.split(b"\r\n\r\n", 1)[1])["status"]
        assert status["info"].startswith("Bad request:") and status["status"] == 1
        assert b"Connection: close" in answer


def test_oversized_head_is_431(server):
    answer = exchange(server, b"GET /live HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431") and b"too large" in answer and b"Connection: close" in answer
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(700))
    assert exchange(server, b"GET /live HTTP/1.1\r\n" + many + b"\r\n").startswith(b"HTTP/1.1 431")


def test_percent_encoded_path_query_and_date_header(server):
    answer = exchange(server, b"GET /health/%70ing?a=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"/health/ping")
    assert b"\r\nDate: " in answer and b"\r\nX-Query: a=1\r\n" in answer


def test_head_answers_without_a_body(server):
    answer = exchange(server, b"HEAD /abc HTTP/1.1\r\nHost: x\r\n\r\n" + post(), responses=2)
    head, echoed = answer.split(b"HTTP/1.1 200 OK")[1:]
    assert b"Content-Length: 4\r\n" in head and head.endswith(b"\r\n\r\n") and echoed.endswith(BODY)


def test_a_tail_follows_the_body_and_counts_in_content_length_small_or_large_body(server):
    large = b"x" * 100_000  # past the size joined to the head: written as its own buffer
    raw = b"HEAD /tail HTTP/1.1\r\nHost: x\r\n\r\n" + post(b"/tail") + post(b"/tail", body=large)
    answer = exchange(server, raw, responses=3)
    head_answer, small_answer, large_answer = (b"HTTP/1.1" + part for part in answer.split(b"HTTP/1.1")[1:])
    for sent, answered in ((BODY, small_answer), (large, large_answer)):
        head, body = answered.split(b"\r\n\r\n", 1)
        assert b"\r\nContent-Length: %d\r\n" % (len(sent) + len(TAIL) - 1) in head
        assert body == sent + TAIL[1:]
    assert b"\r\nContent-Length: %d\r\n" % (len(TAIL) - 1) in head_answer and head_answer.endswith(b"\r\n\r\n")


def test_expect_100_continue(server):
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=5) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(BODY))
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(BODY)
        data = b""
        while not data.endswith(BODY):
            data += sock.recv(4096)
    assert data.startswith(b"HTTP/1.1 200")


def test_absurd_content_length_is_413(server):
    answer = exchange(server, b"POST /echo HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413") and b"Payload too large" in answer


def test_gzip_and_deflate_request_bodies(server):
    import zlib

    assert exchange(server, post(extra=b"Content-Encoding: gzip\r\n", body=gzip.compress(BODY))).endswith(BODY)
    assert exchange(server, post(extra=b"Content-Encoding: deflate\r\n", body=zlib.compress(BODY))).endswith(BODY)


def test_silent_connections_are_closed_after_the_keepalive_timeout():
    async def scenario():
        sock = listening_socket(0, "127.0.0.1")
        server = HttpServer(lambda request: Response(200, b"{}"), error, keepalive_timeout=0.2)
        await server.start(sock)
        port = sock.getsockname()[1]
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", port)
        idle_writer.write(b"GET /x HTTP/1.1\r\n\r\n")
        await idle_reader.readuntil(b"{}")
        stalled_reader, stalled_writer = await asyncio.open_connection("127.0.0.1", port)
        stalled_writer.write(b"POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n12")
        closed = await asyncio.wait_for(asyncio.gather(idle_reader.read(), stalled_reader.read()), 5)
        await server.shutdown(1)
        return closed

    assert asyncio.run(scenario()) == [b"", b""]


def test_shutdown_lets_an_awaited_request_finish_and_closes_idle_connections():
    async def scenario():
        sock = listening_socket(0, "127.0.0.1")
        server = HttpServer(app, error)
        await server.start(sock)
        port = sock.getsockname()[1]
        idle_reader, _ = await asyncio.open_connection("127.0.0.1", port)
        busy_reader, busy_writer = await asyncio.open_connection("127.0.0.1", port)
        busy_writer.write(post(b"/async", body=b"x"))
        await asyncio.sleep(0.005)
        stopping = asyncio.ensure_future(server.shutdown(2))
        answers = await asyncio.wait_for(asyncio.gather(busy_reader.read(), idle_reader.read()), 5)
        await stopping
        return answers

    busy, idle = asyncio.run(scenario())
    assert busy.startswith(b"HTTP/1.1 200") and b"Connection: close" in busy and busy.endswith(b"async:x")
    assert idle == b""
