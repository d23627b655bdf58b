"""The shared HTTP/1.1 server on a thread of its own, and raw-socket exchanges with it, for protocol tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence

import httptools

from seldon_graph.http11 import HttpServer, Limits, Request, Response, listening_socket


def echo_app(request: Request) -> Response:
    """Echoes the body (or the path) and says how many bytes it got; /async answers from a coroutine."""
    if request.path == "/async":
        return _later(request)
    return Response(200, request.body or request.path.encode(), headers={"X-Got": str(len(request.body))})


async def _later(request: Request) -> Response:
    await asyncio.sleep(0)
    return Response(200, request.body)


def status_error(status: int, info: str) -> Response:
    return Response(status, json.dumps({"status": {"code": -1, "info": info, "reason": "BAD", "status": 1}}).encode())


@contextlib.contextmanager
def running_server(app=echo_app, limits: Limits | None = None, keepalive_timeout: float = 75.0) -> Iterator[int]:
    """`app` served on 127.0.0.1 by an event loop on its own thread; yields the port."""
    loop = asyncio.new_event_loop()
    sock = listening_socket(0, "127.0.0.1")
    http = HttpServer(app, status_error, keepalive_timeout=keepalive_timeout, limits=limits)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(http.start(sock), loop).result(5)
    try:
        yield sock.getsockname()[1]
    finally:
        asyncio.run_coroutine_threadsafe(http.shutdown(1), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def send_raw(port: int, parts: Sequence[bytes], timeout: float = 5.0, idle: float = 0.3) -> bytes:
    """Send `parts` one write each, half-close, and read until the server closes or stays `idle` seconds after
    having answered; everything it sent. A TimeoutError when it neither answers nor closes within `timeout`."""
    data, closed = b"", False
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            for part in parts:
                sock.sendall(part)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before everything was sent
        sock.settimeout(idle)
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                if data:
                    break
                continue
            except OSError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            data += chunk
    if not data and not closed:
        raise TimeoutError(f"no answer and no close within {timeout}s")
    return data


class _Answers:
    def __init__(self):
        self.parser = httptools.HttpResponseParser(self)
        self.codes: list[int] = []
        self.bodies: list[bytes] = []
        self.body = b""

    def on_headers_complete(self) -> None:
        self.codes.append(self.parser.get_status_code())

    def on_body(self, chunk: bytes) -> None:
        self.body += chunk

    def on_message_complete(self) -> None:
        self.bodies.append(self.body)
        self.body = b""


def answers(data: bytes) -> _Answers:
    """The responses in `data` (status codes and bodies), read by llhttp; an HttpParserError if they are not
    well-framed HTTP/1.1."""
    found = _Answers()
    found.parser.feed_data(data)
    return found


def statuses(data: bytes) -> list[int]:
    """The status codes of the responses in `data`, in order."""
    return answers(data).codes
