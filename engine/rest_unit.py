"""Calling a unit over REST: POST `/<step>` with a JSON SeldonMessage on a keep-alive aiohttp pool.

Connection failures (nothing was sent) are retried a few times with a short backoff; anything after the request
left is reported, never retried, since a unit's work is not assumed idempotent.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import aiohttp

from seldon_graph.engine.predictor import Node
from seldon_graph.engine.unit_errors import from_rest_reply, timed_out, unreachable

if TYPE_CHECKING:
    from seldon_graph.engine.units import CallContext

CONNECT_TIMEOUT = 2.0
CONNECT_BACKOFF = (0.02, 0.1, 0.3)


def open_session() -> aiohttp.ClientSession:
    """One keep-alive pool for one unit endpoint."""
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30, enable_cleanup_closed=True)
    return aiohttp.ClientSession(connector=connector, skip_auto_headers=("User-Agent",), auto_decompress=True)


class RestUnit:
    wire = "json"

    def __init__(self, node: Node, session: aiohttp.ClientSession, timeout: float | None):
        self.node = node.name
        self.url = node.endpoint.url
        self.timeout_seconds = timeout
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=CONNECT_TIMEOUT)

    async def call(self, step: str, body: bytes, context: "CallContext") -> bytes:
        status, reply = await self._request("POST", f"/{step}", body, context.rest_headers())
        if 200 <= status < 300:
            return reply
        raise from_rest_reply(self.node, step, status, reply)

    async def metadata(self) -> bytes:
        return await self._get("/metadata")

    async def status(self) -> bytes:
        return await self._get("/health/status")

    async def _get(self, path: str) -> bytes:
        status, reply = await self._request("GET", path, None, {})
        if status != 200:
            raise from_rest_reply(self.node, path.lstrip("/"), status, reply)
        return reply

    async def _request(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        url = self.url + path
        last: Exception | None = None
        for backoff in (*CONNECT_BACKOFF, None):
            try:
                async with self._session.request(method, url, data=body, headers=headers,
                                                 timeout=self._timeout) as response:
                    return response.status, await response.read()
            except aiohttp.ClientConnectorError as exc:
                last = exc
                if backoff is not None:
                    await asyncio.sleep(backoff)
            except asyncio.TimeoutError as exc:
                raise timed_out(self.node, url, path.lstrip("/"), self.timeout_seconds) from exc
            except aiohttp.ClientError as exc:
                raise unreachable(self.node, url, exc) from exc
        raise unreachable(self.node, url, last)
