"""A lean HTTP/1.1 server on asyncio (uvloop) for the hot paths of the wrapper and the engine, parsing with llhttp.

Why not a framework: both answer small JSON requests over a handful of keep-alive connections, and per-request
framework overhead (request objects, middleware, header multidicts, one task per request) was about half of
their time. This server parses requests in `data_received` with llhttp (the `httptools` binding, Node's
maintained parser, strict by default), calls the application synchronously, and writes one buffer per response.
An application returns a Response (answered at once, no task), or an awaitable of one (the engine's graph walk:
one task, and the connection's next pipelined request waits for it), or the server runs it on a worker thread
pool when `offload(request)` says so (the wrapper's blocking user models).

Supported: keep-alive and pipelining, HTTP/1.0 and 1.1, Content-Length and chunked request bodies, gzip or
deflate request bodies, `Expect: 100-continue`, HEAD, idle keep-alive timeout, and a graceful drain that lets
in-flight requests finish. Framing is strict (llhttp refuses Transfer-Encoding with Content-Length, duplicate
Content-Length, chunked that is not the final coding, a missing CRLF after a chunk): a malformed request gets a
400 and the connection is closed. Heads, bodies and decompressed bodies are bounded by `Limits` (431 and 413).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import NamedTuple, final
from urllib.parse import unquote

import httptools

log = logging.getLogger(__name__)

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}
MIB = 1024 * 1024
JOINED_BODY = 64 * 1024  # a body up to this size is copied after the head (one buffer); a larger one is not
FORBIDDEN_IN_HEADERS = ("\r", "\n", "\0")


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may weigh. The defaults fit a 1,000 x 1,000 float64 tensor as JSON (about 25 MB) with room
    to spare; a head over `max_head` is a 431, a body over `max_body` (as sent) or `max_decompressed` (after
    Content-Encoding) is a 413."""

    max_head: int = 64 * 1024
    max_body: int = 64 * MIB
    max_decompressed: int = 64 * MIB

    # field → (command-line flag, environment variable)
    SETTINGS = {
        "max_head": ("--max-header-bytes", "SELDON_HTTP_MAX_HEADER_BYTES"),
        "max_body": ("--max-body-bytes", "SELDON_HTTP_MAX_BODY_BYTES"),
        "max_decompressed": ("--max-decompressed-bytes", "SELDON_HTTP_MAX_DECOMPRESSED_BYTES"),
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """The limits set in the environment (SELDON_HTTP_MAX_*_BYTES), defaults for the others."""
        env = os.environ if env is None else env
        values = {}
        for name, (_, variable) in cls.SETTINGS.items():
            text = env.get(variable, "").strip()
            if text:
                values[name] = positive_int(text, variable)
        return cls(**values)

    @classmethod
    def add_flags(cls, parser: argparse.ArgumentParser) -> None:
        """--max-header-bytes, --max-body-bytes, --max-decompressed-bytes; each defaults to its environment
        variable, else to the built-in limit."""
        defaults = cls()
        for name, (flag, variable) in cls.SETTINGS.items():
            parser.add_argument(
                flag,
                dest=f"http_{name}",
                type=_positive_flag,
                default=os.environ.get(variable, "").strip() or getattr(defaults, name),
                help=f"bytes (env {variable}, default {getattr(defaults, name)})",
            )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Limits:
        """The limits parsed by the flags of `add_flags`."""
        return cls(**{name: getattr(args, f"http_{name}") for name in cls.SETTINGS})


def positive_int(text: str, what: str) -> int:
    """`text` as a positive integer; a ValueError naming `what` otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{what}={text!r} is not an integer") from None
    if value <= 0:
        raise ValueError(f"{what}={text!r} must be positive")
    return value


def _positive_flag(text: str | int) -> int:
    try:
        return positive_int(str(text), "value")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@dataclass(slots=True)
class Request:
    """One parsed request: header names are lower case."""

    method: str
    path: str
    query: str
    headers: dict
    body: bytes = b""


@final
@dataclass(slots=True)
class Response:
    """An answer; `tail` is sent right after `body` as it is (large binary data that is not worth a copy into one
    buffer with the body, e.g. V2 tensor bytes after their JSON header)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)
    tail: bytes | memoryview = b""


App = Callable[[Request], Response | Awaitable[Response]]


class Queued(NamedTuple):
    """A complete request waiting for its turn, and whether its connection stays open after the answer."""

    request: Request
    keep_alive: bool


class HttpError(Exception):
    """The request cannot be served as sent: answered with `status` (400, 413, 431) and a close."""

    def __init__(self, status: int, info: str):
        super().__init__(info)
        self.status, self.info = status, info


class BadRequest(HttpError):
    """The bytes on the connection are not HTTP/1.x we accept."""

    def __init__(self, info: str):
        super().__init__(400, info)


def header_value_is_safe(value: str) -> bool:
    """Whether `value` can be written into a header line as it is: latin-1 without CR, LF or NUL."""
    if value.isascii() and value.isprintable():
        return True  # the common case, decided in C
    if any(c in value for c in FORBIDDEN_IN_HEADERS):
        return False
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


class _Clock:
    """The Date header, formatted once per second."""

    def __init__(self) -> None:
        self.second = 0
        self.value = b""

    def date(self) -> bytes:
        now = int(time.time())
        if now != self.second:
            self.second, self.value = now, formatdate(now, usegmt=True).encode()
        return self.value


def render(response: Response, keep_alive: bool, head_only: bool, date: bytes) -> list[bytes | memoryview]:
    """A response as buffers for one `writelines` (Content-Length framing): the head joined with a small body,
    then a large body and the tail as they are (not copied); a ValueError for a header value with CR, LF or NUL."""
    lines = [
        b"HTTP/1.1 %d %s" % (response.status, REASONS.get(response.status, b"Unknown")),
        b"Content-Type: " + response.content_type.encode("latin-1"),
        b"Content-Length: %d" % (len(response.body) + len(response.tail)),
        b"Date: " + date,
    ]
    if not header_value_is_safe(response.content_type):
        raise ValueError(f"refusing to write Content-Type {response.content_type[:100]!r}: not a safe header value")
    for name, value in response.headers.items():
        if not header_value_is_safe(value) or not header_value_is_safe(name):
            raise ValueError(f"refusing to write header {name!r}: its value {value[:100]!r} is not a safe header value")
        lines.append(f"{name}: {value}".encode("latin-1"))
    if not keep_alive:
        lines.append(b"Connection: close")
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    if head_only:
        return [head]
    body = response.body
    buffers: list[bytes | memoryview] = [head + body] if len(body) <= JOINED_BODY else [head, body]
    if response.tail:
        buffers.append(response.tail)
    return buffers


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """The body without its Content-Encoding (gzip or deflate; others pass through), at most `limit` bytes."""
    encoding = encoding.strip().lower()
    if encoding not in ("gzip", "deflate") or not body:
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadRequest(f"body is not valid {encoding}: {exc}") from None
    if len(plain) > limit:
        raise HttpError(413, f"Payload too large: the {encoding} body inflates past the limit of {limit} bytes")
    if not inflater.eof:
        raise BadRequest(f"body is not valid {encoding}: the compressed stream is truncated")
    return plain


def _parser_error(exc: Exception) -> str:
    """llhttp's reason as the tail of a sentence ("invalid character in Content-Length")."""
    text = str(exc).strip() or "malformed request"
    return text[0].lower() + text[1:]


class Connection(asyncio.Protocol):
    """One client connection: llhttp calls the on_* methods from `feed_data`; complete requests queue in order and
    are answered one at a time."""

    def __init__(self, server: HttpServer):
        loop = server.loop
        assert loop is not None, "connections are made once the server has started"
        self.server = server
        self.loop = loop
        self.limits = server.limits
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.ready: deque[Queued] = deque()
        self.failure: HttpError | None = None
        self.busy = False
        self.closing = False
        self.eof = False
        self.paused = False
        self.last_active = 0.0
        self.in_message = False
        self.in_head = False
        self.head_size = 0
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.body_size = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream server hands an asyncio.Transport
        self.last_active = self.loop.time()
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.last_active = self.loop.time()
        if self.failure is not None:
            return
        was_in_head = self.in_head
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._stop_after_queued()
        except httptools.HttpParserError as exc:
            if self.failure is None:
                self.failure = BadRequest(_parser_error(exc))
        if self.in_head and was_in_head and self.failure is None:
            self.head_size += len(data)  # a head still incomplete: bound what llhttp buffers for it
            if self.head_size > self.limits.max_head:
                self.failure = HttpError(431, f"Request header fields too large (limit {self.limits.max_head} bytes)")
        self.process()

    def eof_received(self) -> bool:
        """The client sent everything it will: answer the requests already read, then close."""
        self.eof = True
        if not self.busy and not self.ready:
            self.close()
        return True

    # llhttp callbacks
    def on_message_begin(self) -> None:
        self.in_message = self.in_head = True
        self.head_size = 0
        self.url = b""
        self.headers = {}
        self.body = []
        self.body_size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_size += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_size += len(name) + len(value) + 4
        if self.head_size > self.limits.max_head:
            self._fail(HttpError(431, f"Request header fields too large (limit {self.limits.max_head} bytes)"))
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        if key == "content-length" and (not text.isdigit() or int(text) > self.limits.max_body):
            if not text.isdigit():
                self._fail(BadRequest(f"invalid Content-Length {text[:30]!r}"))
            self._fail(HttpError(413, f"Payload too large: Content-Length {text} exceeds {self.limits.max_body}"))
        self.headers[key] = text

    def on_headers_complete(self) -> None:
        self.in_head = False
        if self.parser.get_http_version() not in ("1.1", "1.0"):
            self._fail(BadRequest(f"unsupported protocol HTTP/{self.parser.get_http_version()}"))
        if (
            self.headers.get("expect", "").lower() == "100-continue"
            and not self.busy
            and not self.ready
            and self.transport is not None
        ):
            self.transport.write(CONTINUE)

    def on_body(self, chunk: bytes) -> None:
        self.body_size += len(chunk)
        if self.body_size > self.limits.max_body:
            self._fail(HttpError(413, f"Payload too large: the body exceeds {self.limits.max_body} bytes"))
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        self.in_message = False
        target = self.url.decode("latin-1")
        path, _, query = target.partition("?")
        if "%" in path:
            path = unquote(path)
        headers = self.headers
        body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
        encoding = headers.get("content-encoding")
        if encoding:
            try:
                body = decompress(body, encoding, self.limits.max_decompressed)
            except HttpError as exc:
                self._fail(exc)
        request = Request(self.parser.get_method().decode("latin-1"), path, query, headers, body)
        self.ready.append(Queued(request, self.parser.should_keep_alive()))

    def _fail(self, error: HttpError) -> None:
        """Stop parsing: the requests queued before this one are answered, then `error`, then the close."""
        self.failure = error
        raise error

    def _stop_after_queued(self) -> None:
        """An Upgrade or CONNECT: the bytes after it are not HTTP, so the connection closes after its answer."""
        if self.ready:
            self.ready[-1] = self.ready[-1]._replace(keep_alive=False)
        self.failure = self.failure or BadRequest("protocol upgrades are not supported")

    @property
    def idle(self) -> bool:
        return not self.busy and not self.in_message and not self.ready

    def process(self) -> None:
        """Answer the queued requests in order until one has to wait (for a thread or a task)."""
        ready = self.ready
        while self.transport is not None:
            if self.busy:
                if ready and not self.paused:
                    self.transport.pause_reading()  # pipelined requests wait in the socket, not in memory
                    self.paused = True
                return
            if not ready:
                if self.failure is not None:
                    self._reject(self.failure)
                return
            request, keep_alive = ready.popleft()
            answer: Response | Awaitable[Response]
            if self.server.offload(request):
                answer = self.server.call_offloaded(request)
            else:
                answer = self.server.call(request)
                if type(answer) is Response:  # narrows both ways: Response is final
                    self._write(request, answer, keep_alive)
                    continue
            self.busy = True
            self.loop.create_task(self._answer_later(request, answer, keep_alive))

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
        transport = self.transport
        if transport is None:
            return
        keep_alive = keep_alive and not self.closing and not (self.eof and not self.ready)
        try:
            data = render(response, keep_alive, request.method == "HEAD", self.server.clock.date())
        except ValueError as exc:
            log.error("%s %s: %s", request.method, request.path, exc)
            failure = self.server.error(500, "internal error: unsafe response header")
            data = render(failure, keep_alive, False, self.server.clock.date())
        transport.writelines(data)
        if not keep_alive:
            transport.close()
            self.transport = None

    def _reject(self, error: HttpError) -> None:
        prefix = "Bad request: " if error.status == 400 else ""
        response = self.server.error(error.status, prefix + error.info)
        transport = self.transport
        assert transport is not None, "only an open connection is answered"
        transport.writelines(render(response, False, False, self.server.clock.date()))
        transport.close()
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
        limits: Limits | None = None,
    ):
        self.app = app
        self.error = error
        self.offload = offload if pool is not None else (lambda request: False)
        self.pool = pool
        self.keepalive_timeout = keepalive_timeout
        self.limits = limits or Limits()
        self.connections: set[Connection] = set()
        self.clock = _Clock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None

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
        """The application's answer computed on the pool; an offloaded request must be answered synchronously."""
        assert self.loop is not None, "requests are served once the server has started"
        answer = await self.loop.run_in_executor(self.pool, self.call, request)
        assert isinstance(answer, Response), "an offloaded request must be answered with a Response, not an awaitable"
        return answer

    async def start(self, sock: socket.socket) -> None:
        self.loop = loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: Connection(self), sock=sock)
        self._sweeper = loop.create_task(self._sweep_idle(loop))

    async def _sweep_idle(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            await asyncio.sleep(min(5.0, self.keepalive_timeout))
            cutoff = loop.time() - self.keepalive_timeout
            for conn in [c for c in self.connections if c.last_active < cutoff and not c.busy]:
                conn.close()  # idle keep-alive, or a client silent in the middle of a request

    async def shutdown(self, timeout: float) -> None:
        """Stop accepting, close idle connections, let requests in flight finish (up to `timeout` s)."""
        loop, server, sweeper = self.loop, self.server, self._sweeper
        assert loop is not None and server is not None and sweeper is not None, "shutdown() follows start()"
        server.close()
        sweeper.cancel()
        deadline = loop.time() + timeout
        for conn in list(self.connections):
            conn.closing = True
            conn.close_if_idle()
        while self.connections and loop.time() < deadline:
            for conn in list(self.connections):
                conn.close_if_idle()
            await asyncio.sleep(0.05)
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()
        await server.wait_closed()
