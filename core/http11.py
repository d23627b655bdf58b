"""A lean HTTP/1.1 server on asyncio (uvloop) for the hot paths of the wrapper and the engine (stdlib only).

Why not a framework: both answer small JSON requests over a handful of keep-alive connections, and per-request
framework overhead (request objects, middleware, header multidicts, one task per request) was about half of
their time. This server parses requests in `data_received`, calls the application synchronously, and writes one
buffer per response. An application returns a Response (answered at once, no task), or an awaitable of one (the
engine's graph walk: one task, and the connection's next pipelined request waits for it), or the server runs it
on a worker thread pool when `offload(request)` says so (the wrapper's blocking user models).

Supported: keep-alive and pipelining, HTTP/1.0 and 1.1, Content-Length and chunked request bodies, gzip or
deflate request bodies, `Expect: 100-continue`, HEAD, idle keep-alive timeout, and a graceful drain that lets in-flight requests
finish. Malformed requests get a 400 and the connection is closed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import zlib
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import unquote

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
MAX_BODY = 2**31
PAUSE_ABOVE = 4 * 1024 * 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}


@dataclass(slots=True)
class Request:
    """One parsed request: header names are lower case."""

    method: str
    path: str
    query: str
    headers: dict
    body: bytes = b""


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)


App = Callable[[Request], Response | Awaitable[Response]]


class BadRequest(Exception):
    """The bytes on the connection are not HTTP/1.x we accept; answered with 400 and a close."""


class _Clock:
    """The Date header, formatted once per second."""

    def __init__(self):
        self.second = 0
        self.value = b""

    def date(self) -> bytes:
        now = int(time.time())
        if now != self.second:
            self.second, self.value = now, formatdate(now, usegmt=True).encode()
        return self.value


def render(response: Response, keep_alive: bool, head_only: bool, date: bytes) -> bytes:
    """The bytes of a response (Content-Length framing)."""
    lines = [
        b"HTTP/1.1 %d %s" % (response.status, REASONS.get(response.status, b"Unknown")),
        b"Content-Type: " + response.content_type.encode(),
        b"Content-Length: %d" % len(response.body),
        b"Date: " + date,
    ]
    lines.extend(f"{name}: {value}".encode("latin-1") for name, value in response.headers.items())
    if not keep_alive:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (b"" if head_only else response.body)


class _Pending:
    """A request whose head is parsed and whose body is still arriving."""

    __slots__ = ("request", "keep_alive", "length", "chunked", "continued")

    def __init__(self, request: Request, keep_alive: bool, length: int, chunked: bool):
        self.request, self.keep_alive, self.length, self.chunked = request, keep_alive, length, chunked
        self.continued = False


def parse_head(head: bytes) -> _Pending:
    """The request line and headers (without the blank line)."""
    lines = head.split(b"\r\n")
    try:
        method, target, version = lines[0].decode("latin-1").split(" ")
    except ValueError:
        raise BadRequest(f"malformed request line {lines[0][:100]!r}") from None
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(f"unsupported protocol {version[:20]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise BadRequest(f"malformed header line {line[:100]!r}")
        headers[name.decode("latin-1").lower()] = value.strip().decode("latin-1")
    path, _, query = target.partition("?")
    if "%" in path:
        path = unquote(path)
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    length_text = headers.get("content-length")
    if chunked and length_text is not None:
        raise BadRequest("both Content-Length and Transfer-Encoding: chunked")
    try:
        length = int(length_text) if length_text is not None else 0
    except ValueError:
        raise BadRequest(f"invalid Content-Length {length_text[:30]!r}") from None
    if length < 0 or length > MAX_BODY:
        raise BadRequest(f"Content-Length {length} out of range (0 to {MAX_BODY})")
    return _Pending(Request(method, path, query, headers), keep_alive, length, chunked)


def chunked_body(buffer: bytearray, start: int = 0) -> tuple[bytes, int] | None:
    """The decoded chunked body that begins at `start` and the index just past it, or None while incomplete.

    Shared by this server (request bodies) and the engine's unit client (response bodies); a malformed chunk
    size is a ValueError.
    """
    pos, parts = start, []
    while True:
        end = buffer.find(b"\r\n", pos)
        if end < 0:
            return None
        try:
            size = int(bytes(buffer[pos:end]).split(b";")[0], 16)
        except ValueError:
            raise ValueError("malformed chunk size") from None
        if size < 0:
            raise ValueError("negative chunk size")
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", end)
            return None if trailer_end < 0 else (b"".join(parts), trailer_end + 4)
        begin = end + 2
        if len(buffer) < begin + size + 2:
            return None
        parts.append(bytes(buffer[begin : begin + size]))
        pos = begin + size + 2


def take_chunked(buffer: bytearray) -> bytes | None:
    """The decoded body if `buffer` holds a complete chunked body (which is then removed), else None."""
    try:
        found = chunked_body(buffer)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if found is None:
        return None
    body, end = found
    del buffer[:end]
    return body


def decompress(body: bytes, encoding: str) -> bytes:
    """The body without its Content-Encoding (gzip or deflate); other encodings are passed through."""
    encoding = encoding.strip().lower()
    if encoding not in ("gzip", "deflate") or not body:
        return body
    try:
        return zlib.decompress(body, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    except zlib.error as exc:
        raise BadRequest(f"body is not valid {encoding}: {exc}") from None


class Connection(asyncio.Protocol):
    """One client connection: parse, dispatch, answer in order."""

    def __init__(self, server: HttpServer):
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.pending: _Pending | None = None
        self.busy = False
        self.closing = False
        self.paused = False
        self.last_active = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.last_active = self.server.loop.time()
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.last_active = self.server.loop.time()
        self.process()

    @property
    def idle(self) -> bool:
        return not self.busy and self.pending is None and not self.buffer

    def process(self) -> None:
        """Answer every complete request in the buffer, in order, until one has to wait (for a thread or a task)."""
        while self.transport is not None and not self.busy:
            try:
                ready = self._next_request()
            except BadRequest as exc:
                self._reject(str(exc))
                return
            if ready is None:
                return
            request, keep_alive = ready
            if self.server.offload(request):
                answer = self.server.call_offloaded(request)
            else:
                answer = self.server.call(request)
                if answer.__class__ is Response:
                    self._write(request, answer, keep_alive)
                    continue
            self.busy = True
            if len(self.buffer) > PAUSE_ABOVE:
                self.transport.pause_reading()
                self.paused = True
            self.server.loop.create_task(self._answer_later(request, answer, keep_alive))
            return

    def _next_request(self) -> tuple[Request, bool] | None:
        pending = self.pending
        if pending is None:
            while self.buffer[:2] == b"\r\n":
                del self.buffer[:2]
            end = self.buffer.find(b"\r\n\r\n")
            if end > MAX_HEAD or (end < 0 and len(self.buffer) > MAX_HEAD):
                raise BadRequest("request head too large")
            if end < 0:
                return None
            pending = self.pending = parse_head(bytes(self.buffer[:end]))
            del self.buffer[: end + 4]
        if pending.chunked:
            body = take_chunked(self.buffer)
        elif len(self.buffer) >= pending.length:
            with memoryview(self.buffer) as view:
                body = bytes(view[: pending.length])
            del self.buffer[: pending.length]
        else:
            body = None
        if body is None:
            if not pending.continued and pending.request.headers.get("expect", "").lower() == "100-continue":
                pending.continued = True
                self.transport.write(CONTINUE)
            return None
        self.pending = None
        pending.request.body = decompress(body, pending.request.headers.get("content-encoding", ""))
        return pending.request, pending.keep_alive

    async def _answer_later(self, request: Request, answer: Awaitable[Response], keep_alive: bool) -> None:
        try:
            response = await answer
        except Exception:
            response = self.server.crashed(request)
        self.busy = False
        self._write(request, response, keep_alive)
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        self.process()

    def _write(self, request: Request, response: Response, keep_alive: bool) -> None:
        if self.transport is None:
            return
        keep_alive = keep_alive and not self.closing
        self.transport.write(render(response, keep_alive, request.method == "HEAD", self.server.clock.date()))
        if not keep_alive:
            self.transport.close()
            self.transport = None

    def _reject(self, reason: str) -> None:
        response = self.server.error(400, f"Bad request: {reason}")
        self.transport.write(render(response, False, False, self.server.clock.date()))
        self.transport.close()
        self.transport = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def close_if_idle(self) -> None:
        if self.idle:
            self.close()


def listening_socket(port: int, host: str = "0.0.0.0", reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket; with SO_REUSEPORT several workers share the port and the kernel balances them."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class HttpServer:
    """Serves `app` on a listening socket; `offload(request)` says which requests run on `pool`; `error(status,
    info)` renders the server's own failures (malformed requests, application bugs)."""

    def __init__(
        self,
        app: App,
        error: Callable[[int, str], Response],
        offload: Callable[[Request], bool] = lambda request: False,
        pool: Executor | None = None,
        keepalive_timeout: float = 75.0,
    ):
        self.app = app
        self.error = error
        self.offload = offload if pool is not None else (lambda request: False)
        self.pool = pool
        self.keepalive_timeout = keepalive_timeout
        self.connections: set[Connection] = set()
        self.clock = _Clock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: asyncio.Server | None = None
        self._sweeper: asyncio.Task | None = None

    def call(self, request: Request) -> Response | Awaitable[Response]:
        try:
            return self.app(request)
        except Exception:
            return self.crashed(request)

    def crashed(self, request: Request) -> Response:
        """The answer when the application raised (called in the except block: the traceback is logged)."""
        log.exception("unhandled error answering %s %s", request.method, request.path)
        return self.error(500, "internal error")

    async def call_offloaded(self, request: Request) -> Response:
        return await self.loop.run_in_executor(self.pool, self.call, request)

    async def start(self, sock) -> None:
        self.loop = asyncio.get_running_loop()
        self.server = await self.loop.create_server(lambda: Connection(self), sock=sock)
        self._sweeper = self.loop.create_task(self._sweep_idle())

    async def _sweep_idle(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, self.keepalive_timeout))
            cutoff = self.loop.time() - self.keepalive_timeout
            for conn in [c for c in self.connections if c.last_active < cutoff and not c.busy]:
                conn.close()  # idle keep-alive, or a client silent in the middle of a request

    async def shutdown(self, timeout: float) -> None:
        """Stop accepting, close idle connections, let requests in flight finish (up to `timeout` s)."""
        self.server.close()
        self._sweeper.cancel()
        deadline = self.loop.time() + timeout
        for conn in list(self.connections):
            conn.closing = True
            conn.close_if_idle()
        while self.connections and self.loop.time() < deadline:
            for conn in list(self.connections):
                conn.close_if_idle()
            await asyncio.sleep(0.05)
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()
        await self.server.wait_closed()
