"""The engine's HTTP/1.1 unit client against raw servers on 127.0.0.1: framing, reuse, closes, failures."""

import asyncio

import pytest

from seldon_graph.engine.http_client import ConnectError, HttpPool
from tests.support.procs import free_port


async def serve(replies: list[bytes], seen: list[bytes], close_after: bool = False):
    """A server that answers each request on a connection with the next raw reply."""
    connections = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        connections.append(writer)
        while replies:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                ),
                0,
            )
            seen.append(head + await reader.readexactly(length))
            writer.write(replies.pop(0))
            await writer.drain()
            if close_after:
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], connections


def run(coroutine):
    return asyncio.run(coroutine)


def test_content_length_chunked_and_reuse():
    async def scenario():
        seen: list[bytes] = []
        replies = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
        ]
        server, port, connections = await serve(replies, seen)
        pool = HttpPool("127.0.0.1", port)
        first = await pool.request("POST", "/predict", b"X-Custom: 1\r\n", b'{"a":1}')
        second = await pool.request("GET", "/metadata", b"", None)
        third = await pool.request("GET", "/metadata", b"", None)
        pool.close()
        server.close()
        return first, second, third, seen, len(connections)

    first, second, third, seen, connections = run(scenario())
    assert first == (200, b"hello") and second == (201, b"abcde") and third == (204, b"")
    assert seen[0].startswith(b"POST /predict HTTP/1.1\r\n") and b"X-Custom: 1\r\n" in seen[0]
    assert seen[0].endswith(b'Content-Length: 7\r\n\r\n{"a":1}')
    assert connections == 1


def test_body_until_close_and_connection_close_are_not_reused():
    async def scenario():
        seen: list[bytes] = []
        replies = [b"HTTP/1.0 200 OK\r\n\r\nuntil-close", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
        server, port, connections = await serve(replies, seen, close_after=True)
        pool = HttpPool("127.0.0.1", port)
        first = await pool.request("POST", "/predict", b"", b"{}")
        second = await pool.request("POST", "/predict", b"", b"{}")
        pool.close()
        server.close()
        return first, second, len(connections)

    first, second, connections = run(scenario())
    assert first == (200, b"until-close") and second == (200, b"ok") and connections == 2


def test_nothing_listening_is_a_connect_error():
    async def scenario():
        await HttpPool("127.0.0.1", free_port()).request("POST", "/predict", b"", b"{}")

    with pytest.raises(ConnectError):
        run(scenario())


def test_a_unit_that_hangs_up_mid_request_is_a_connection_error():
    async def scenario():
        async def hang_up(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        pool = HttpPool("127.0.0.1", server.sockets[0].getsockname()[1])
        try:
            await pool.request("POST", "/predict", b"", b"{}")
        finally:
            server.close()

    with pytest.raises(ConnectionError):
        run(scenario())
