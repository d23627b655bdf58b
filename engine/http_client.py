"""A small HTTP/1.1 keep-alive client for unit calls: one pool of connections per unit endpoint.

Unit calls are the engine's hot path and a general-purpose client spends more CPU per call than the engine
spends on everything else, so this one does only what unit calls need: a request with a byte body, a response
read by Content-Length, chunked encoding or connection close, and connection reuse.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import NamedTuple

from seldon_graph.http11 import chunked_body

_HEAD_END = b"\r\n\r\n"


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
    """One TCP connection carrying one request at a time."""

    def __init__(self):
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future | None = None
        self._head: tuple[int, dict[bytes, bytes]] | None = None
        self._body_start = 0
        self.received_any = False
        self.closed = False
        self.reusable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            if self._head is not None and self._until_close():
                self._finish(bytes(self._buffer[self._body_start :]))
            else:
                self._waiter.set_exception(ConnectionResetError(f"connection closed by the unit ({exc or 'EOF'})"))

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        self._buffer += data
        if self._waiter is None or self._waiter.done():
            return
        try:
            self._parse()
        except ProtocolError as exc:
            self._waiter.set_exception(exc)

    def send(self, request: list[bytes]) -> asyncio.Future:
        self._buffer.clear()
        self._head = None
        self.received_any = False
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.writelines(request)  # head and body in one writev, the body not copied
        return self._waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _until_close(self) -> bool:
        headers = self._head[1]
        return b"content-length" not in headers and b"chunked" not in headers.get(b"transfer-encoding", b"").lower()

    def _parse(self) -> None:
        if self._head is None:
            end = self._buffer.find(_HEAD_END)
            if end < 0:
                return
            self._head = _parse_head(bytes(self._buffer[:end]))
            self._body_start = end + 4
            if self._head[1].get(b"connection", b"").lower() == b"close":
                self.reusable = False
        status, headers = self._head
        length = headers.get(b"content-length")
        if status in (204, 304):
            self._finish(b"")
        elif length is not None:
            end = self._body_start + int(length)
            if len(self._buffer) >= end:
                self._finish(bytes(self._buffer[self._body_start : end]))
        elif b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            try:
                found = chunked_body(self._buffer, self._body_start)
            except ValueError as exc:
                raise ProtocolError(str(exc)) from exc
            if found is not None:
                self._finish(found[0])
        else:
            self.reusable = False

    def _finish(self, body: bytes) -> None:
        self._waiter.set_result(Reply(self._head[0], self._head[1], body))


def _parse_head(head: bytes) -> tuple[int, dict[bytes, bytes]]:
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:100]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if parts[0] == b"HTTP/1.0" and headers.get(b"connection", b"").lower() != b"keep-alive":
        headers[b"connection"] = b"close"
    return int(parts[1]), headers


class HttpPool:
    """Keep-alive connections to one host:port; `request` returns (status, body)."""

    def __init__(self, host: str, port: int, connect_timeout: float = 2.0):
        self.host, self.port = host, port
        self.connect_timeout = connect_timeout
        self._host_header = f"Host: {host}:{port}\r\n".encode()
        self._idle: list[_Connection] = []

    async def request(self, method: str, path: str, headers: bytes, body: bytes | None) -> tuple[int, bytes]:
        """One request; `headers` are preformatted `Name: value\\r\\n` lines. Raises ConnectError when no
        connection could be made, ConnectionError or ProtocolError when the exchange broke."""
        status, _, reply = await self.exchange(method, path, headers, body)
        return status, reply

    async def exchange(self, method: str, path: str, headers: bytes, body: bytes | None) -> Reply:
        """`request` with the reply's headers too (protocols whose framing is in headers need them)."""
        payload = body or b""
        head = b"".join(
            (
                method.encode(),
                b" ",
                path.encode(),
                b" HTTP/1.1\r\n",
                self._host_header,
                headers,
                b"Content-Length: ",
                str(len(payload)).encode(),
                b"\r\n\r\n",
            )
        )
        message = [head, payload]
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

    async def _exchange(self, connection: _Connection, message: list[bytes]) -> Reply:
        try:
            return await connection.send(message)
        except BaseException:
            connection.close()
            raise

    async def _acquire(self, fresh: bool = False) -> tuple[_Connection, bool]:
        while self._idle and not fresh:
            connection = self._idle.pop()
            if not connection.closed and not connection.transport.is_closing():
                return connection, True
        loop = asyncio.get_running_loop()
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(_Connection, self.host, self.port), self.connect_timeout
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
