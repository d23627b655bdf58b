"""Calling a unit over REST: POST `/<step>` with a JSON SeldonMessage on the unit's keep-alive pool.

Connection failures (nothing was sent) are retried a few times with a short backoff; anything after the request
left is reported, never retried, since a unit's work is not assumed idempotent.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from seldon_graph.engine.http_client import Body, ConnectError, HttpPool, ProtocolError, Reply
from seldon_graph.engine.predictor import Node
from seldon_graph.engine.unit_errors import from_rest_reply, timed_out, unreachable

if TYPE_CHECKING:
    from seldon_graph.engine.unit_pool import CallContext

CONNECT_BACKOFF = (0.02, 0.1, 0.3)


class RestEndpoint:
    """A unit's REST port: requests on its keep-alive pool with connection failures retried (what every
    protocol's REST unit client shares; each adds its own calls)."""

    wire = "json"

    def __init__(self, node: Node, pool: HttpPool, timeout: float | None):
        assert node.endpoint is not None, "unit clients are made for nodes with an endpoint"
        self.node = node.name
        self.url = node.endpoint.url
        self.timeout = timeout
        self._pool = pool

    async def _request(self, method: str, path: str, body: Body, headers: bytes) -> Reply:
        url = self.url + path
        attempt = 0
        while True:
            try:
                if self.timeout is None:
                    return await self._pool.exchange(method, path, headers, body)
                return await asyncio.wait_for(self._pool.exchange(method, path, headers, body), self.timeout)
            except ConnectError as exc:
                if attempt == len(CONNECT_BACKOFF):
                    raise unreachable(self.node, url, exc) from exc
                await asyncio.sleep(CONNECT_BACKOFF[attempt])
                attempt += 1
            except TimeoutError as exc:
                raise timed_out(self.node, url, path.lstrip("/"), self.timeout) from exc
            except (ConnectionError, ProtocolError) as exc:
                raise unreachable(self.node, url, exc) from exc


class RestUnit(RestEndpoint):
    """A seldon protocol unit: SeldonMessage JSON documents in and out."""

    async def call(self, step: str, body: bytes, context: CallContext) -> bytes:
        reply = await self._request("POST", f"/{step}", body, context.rest_headers())
        if 200 <= reply.status < 300:
            return reply.body
        raise from_rest_reply(self.node, step, reply.status, reply.body, _content_type(reply))

    def labels(self, step: str) -> tuple[str, str]:
        return f"/{step}", "post"

    async def metadata(self) -> bytes:
        return await self._get("/metadata")

    async def status(self) -> bytes:
        return await self._get("/health/status")

    async def _get(self, path: str) -> bytes:
        reply = await self._request("GET", path, None, b"")
        if reply.status != 200:
            raise from_rest_reply(self.node, path.lstrip("/"), reply.status, reply.body, _content_type(reply))
        return reply.body


def _content_type(reply: Reply) -> str:
    return reply.headers.get(b"content-type", b"").decode("latin-1")
