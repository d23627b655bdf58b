"""A small HTTP/1.1 keep-alive client for unit calls: one pool of connections per unit endpoint.

Unit calls are the engine's hot path and a general-purpose client spends more CPU per call than the engine
spends on everything else, so this one does only what unit calls need: a request with a byte body, a response
read by llhttp (Content-Length, chunked encoding or connection close, strict framing), and connection reuse.
A reply whose head or body exceeds the engine's limits is a ProtocolError.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import NamedTuple

import httptools

from seldon_graph.http11 import Limits

Body = bytes | tuple[bytes | memoryview, ...] | None
"""A request body: bytes, or buffers sent back to back without being joined (large tensor data is not copied)."""


class Reply(NamedTuple):
    """A unit's answer: status, headers (lower-case names) and body."""

    status: int
    headers: dict[bytes, bytes]
    body: bytes


class ConnectError(OSError):
    """No connection could be made: nothing was sent, so the call may be retried."""


class ProtocolError(Exception):
    """The unit's reply was not HTTP/1.x this client understands."""


class _Connection(asyncio.Protocol):
    """One TCP connection carrying one request at a time; llhttp calls the on_* methods from `feed_data`."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future | None = None
        self._status = 0
        self._headers: dict[bytes, bytes] = {}
        self._head_size = 0
        self._headers_done = False
        self._framed = False
        self._body: list[bytes] = []
        self._body_size = 0
        self.received_any = False
        self.closed = False
        self.reusable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream connection hands an asyncio.Transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            if self._headers_done and not self._framed:
                self._finish(b"".join(self._body))  # a body delimited by the close
            else:
                self._waiter.set_exception(ConnectionResetError(f"connection closed by the unit ({exc or 'EOF'})"))

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        if self._waiter is None or self._waiter.done():
            self.reusable = False  # bytes nobody asked for: this connection is out of step
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.reusable = False
            if not self._waiter.done():
                self._waiter.set_exception(ProtocolError(f"malformed reply: {exc}"))
            return
        if not self._headers_done:
            self._head_size += len(data)
            if self._head_size > self.limits.max_head:
                self._fail(f"reply head larger than {self.limits.max_head} bytes")

    def send(self, request: list[bytes | memoryview]) -> asyncio.Future:
        self._start()
        self.received_any = False
        self._waiter = asyncio.get_running_loop().create_future()
        transport = self.transport
        assert transport is not None, "a pool hands out connections once they are made"
        transport.writelines(request)  # head and body in one writev, the body not copied
        return self._waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _start(self) -> None:
        self._status = 0
        self._headers = {}
        self._head_size = 0
        self._headers_done = False
        self._framed = False
        self._body = []
        self._body_size = 0

    # llhttp callbacks
    def on_message_begin(self) -> None:
        self._start()

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        self._headers[name] = value
        if name == b"content-length" or (name == b"transfer-encoding" and b"chunked" in value.lower()):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._status = self.parser.get_status_code()
        self._headers_done = True
        if not self.parser.should_keep_alive():
            self.reusable = False
        if self._status in (204, 304) or 100 <= self._status < 200:
            self._framed = True

    def on_body(self, chunk: bytes) -> None:
        self._body_size += len(chunk)
        if self._body_size > self.limits.max_body:
            self._fail(f"reply body larger than {self.limits.max_body} bytes")
            return
        self._body.append(chunk)

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:
            return  # an interim answer (100 Continue): the real one follows
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self._finish(body)

    def _fail(self, reason: str) -> None:
        self.reusable = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ProtocolError(reason))
        if self.transport is not None:
            self.transport.close()

    def _finish(self, body: bytes) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(Reply(self._status, self._headers, body))


class HttpPool:
    """Keep-alive connections to one host:port; `request` returns (status, body), `exchange` a Reply."""

    def __init__(self, host: str, port: int, connect_timeout: float = 2.0, limits: Limits | None = None):
        self.host, self.port = host, port
        self.limits = limits or Limits.from_env()
        self.connect_timeout = connect_timeout
        self._host_header = f"Host: {host}:{port}\r\n".encode()
        self._idle: list[_Connection] = []

    async def request(self, method: str, path: str, headers: bytes, body: Body) -> tuple[int, bytes]:
        """One request; `headers` are preformatted `Name: value\\r\\n` lines. Raises ConnectError when no
        connection could be made, ConnectionError or ProtocolError when the exchange broke."""
        status, _, reply = await self.exchange(method, path, headers, body)
        return status, reply

    async def exchange(self, method: str, path: str, headers: bytes, body: Body) -> Reply:
        """`request` with the reply's headers too (protocols whose framing is in headers need them)."""
        if body is None or isinstance(body, bytes):
            parts: tuple[bytes | memoryview, ...] = (body or b"",)
            length = len(parts[0])
        else:
            parts, length = body, sum(len(part) for part in body)
        head = b"".join(
            (
                method.encode(),
                b" ",
                path.encode(),
                b" HTTP/1.1\r\n",
                self._host_header,
                headers,
                b"Content-Length: ",
                str(length).encode(),
                b"\r\n\r\n",
            )
        )
        message = [head, *parts]
        connection, reused = await self._acquire()
        try:
            reply = await connection.send(message)
        except ConnectionError:
            connection.close()
            if not (reused and not connection.received_any):
                raise
            connection, _ = await self._acquire(fresh=True)
            reply = await self._exchange(connection, message)
        except BaseException:
            connection.close()
            raise
        self._release(connection)
        return reply

    async def _exchange(self, connection: _Connection, message: list[bytes | memoryview]) -> Reply:
        try:
            return await connection.send(message)
        except BaseException:
            connection.close()
            raise

    async def _acquire(self, fresh: bool = False) -> tuple[_Connection, bool]:
        while self._idle and not fresh:
            connection = self._idle.pop()
            transport = connection.transport
            if not connection.closed and transport is not None and not transport.is_closing():
                return connection, True
        loop = asyncio.get_running_loop()
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(lambda: _Connection(self.limits), self.host, self.port), self.connect_timeout
            )
        except (TimeoutError, OSError) as exc:
            raise ConnectError(f"cannot connect to {self.host}:{self.port}: {exc or type(exc).__name__}") from exc
        return connection, False

    def _release(self, connection: _Connection) -> None:
        if connection.reusable and not connection.closed:
            self._idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        for connection in self._idle:
            with contextlib.suppress(Exception):
                connection.close()
        self._idle.clear()
