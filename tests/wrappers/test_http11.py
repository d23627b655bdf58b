"""The wrapper's HTTP/1.1 server on raw sockets: framing, keep-alive, pipelining, chunked bodies, bad requests."""
import json
import socket

import requests

BODY = b'{"data":{"ndarray":[[1,2]]}}'
ANSWER = b'{"data":{"names":["t:0","t:1"],"ndarray":[[2,4]]},"meta":{}}'


def exchange(unit, raw: bytes, until: bytes = b"", responses: int = 1) -> bytes:
    """Send `raw`, read until `responses` answers arrived (or the server closed)."""
    with socket.create_connection(("127.0.0.1", unit.http_port), timeout=5) as sock:
        sock.sendall(raw)
        data = b""
        while data.count(b"HTTP/1.") < responses or (until and until not in data) or not _complete(data):
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


def post(path: bytes = b"/predict", extra: bytes = b"", body: bytes = BODY, version: bytes = b"HTTP/1.1") -> bytes:
    return (b"POST " + path + b" " + version + b"\r\nHost: x\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: %d\r\n\r\n" % len(body) + body)


def test_keep_alive_and_pipelining(model):
    answer = exchange(model, post() + post() + post(b"/api/v1.0/predictions"), responses=3)
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    assert answer.count(ANSWER) == 3
    assert b"Connection: close" not in answer


def test_request_split_across_packets(model):
    raw = post()
    with socket.create_connection(("127.0.0.1", model.http_port), timeout=5) as sock:
        for i in range(0, len(raw), 7):
            sock.sendall(raw[i:i + 7])
        data = b""
        while ANSWER not in data:
            data += sock.recv(4096)
    assert data.startswith(b"HTTP/1.1 200 OK")


def test_chunked_request_body(model):
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (BODY[:10], BODY[10:])) + b"0\r\n\r\n"
    with_trailer = chunks[:-2] + b"X-Trailer: 1\r\n\r\n"
    raw = (b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
           + chunks)
    assert exchange(model, raw + post(), responses=2).count(ANSWER) == 2
    trailed = raw.replace(chunks, with_trailer)
    assert exchange(model, trailed + post(), responses=2).count(ANSWER) == 2
    streamed = requests.post(model.url("/predict"), data=iter([BODY[:5], BODY[5:]]),
                             headers={"Content-Type": "application/json"})
    assert streamed.status_code == 200 and streamed.content == ANSWER


def test_connection_close_and_http10(model):
    closing = exchange(model, post(extra=b"Connection: close\r\n"))
    assert b"Connection: close" in closing and ANSWER in closing
    http10 = exchange(model, post(version=b"HTTP/1.0"))
    assert http10.startswith(b"HTTP/1.1 200") and b"Connection: close" in http10


def test_malformed_requests_get_400_with_a_status_body(model):
    for raw in (b"GARBAGE\r\n\r\n", b"POST /predict HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                b"POST /predict HTTP/1.1\r\nbad header line\r\n\r\n", b"GET / HTTP/2.0\r\n\r\n",
                b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabc\r\n"):
        answer = exchange(model, raw)
        assert answer.startswith(b"HTTP/1.1 400"), raw
        status = json.loads(answer.split(b"\r\n\r\n", 1)[1])["status"]
        assert status["info"].startswith("Bad request:") and status["status"] == 1


def test_oversized_head_is_rejected(model):
    answer = exchange(model, b"GET /live HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400") and b"too large" in answer


def test_percent_encoded_path_and_date_header(model):
    answer = exchange(model, b"GET /health/%70ing HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"pong")
    assert b"\r\nDate: " in answer


def test_absurd_content_length_is_rejected(model):
    answer = exchange(model, b"POST /predict HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400") and b"out of range" in answer


def test_silent_connections_are_closed_after_the_keepalive_timeout():
    import asyncio

    from seldon_graph.wrappers.http11 import HttpServer, Response
    from seldon_graph.wrappers.serving import listening_socket

    async def scenario():
        sock = listening_socket(0, "127.0.0.1")
        server = HttpServer(lambda request: Response(200, b"{}"), lambda status, info: Response(status, b"{}"),
                            lambda request: False, keepalive_timeout=0.2)
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


def test_gzip_request_body(model):
    import gzip

    answer = exchange(model, post(extra=b"Content-Encoding: gzip\r\n", body=gzip.compress(BODY)))
    assert answer.startswith(b"HTTP/1.1 200") and ANSWER in answer
    broken = exchange(model, post(extra=b"Content-Encoding: gzip\r\n", body=b"not gzip"))
    assert broken.startswith(b"HTTP/1.1 400") and b"not valid gzip" in broken
