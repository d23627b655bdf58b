"""Request logging: a node's input and output sent as CloudEvents (HTTP binary mode) to its logger URL.

Every event has its own `Ce-Id` (CloudEvents require ids unique per source); `Ce-Requestid` carries the puid,
so a request's events can be joined, as the Seldon executor sends them (executor/predictor/predictor_process.go).

Events go through a bounded in-memory queue drained by a few background workers. Enqueuing never waits: when
the sink is slow or down and the queue is full the event is dropped and counted, so logging can never slow or
fail a prediction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime
from typing import NamedTuple

import aiohttp

REQUEST_TYPE = "io.seldon.serving.inference.request"
RESPONSE_TYPE = "io.seldon.serving.inference.response"
FEEDBACK_TYPE = "io.seldon.serving.feedback"
log = logging.getLogger(__name__)


class Event(NamedTuple):
    url: str
    event_type: str
    node: str
    puid: str
    body: bytes
    content_type: str


class RequestLogger:
    """The queue and its workers; `emit` is the only call on the request path."""

    def __init__(
        self,
        source: str,
        deployment: str,
        namespace: str,
        predictor: str,
        workers: int = 4,
        queue_size: int = 10000,
        send_timeout: float = 10.0,
        protocol: str = "seldon",
    ):
        self._headers = {
            "Ce-Specversion": "1.0",
            "Ce-Source": source,
            "Ce-Inferenceservicename": deployment,
            "Ce-Namespace": namespace,
            "Ce-Endpoint": predictor,
            "Ce-Protocol": protocol,
        }
        self._queue: asyncio.Queue[Event] = asyncio.Queue(queue_size)
        self._worker_count = workers
        self._timeout = aiohttp.ClientTimeout(total=send_timeout)
        self._workers: list[asyncio.Task] = []
        self._session: aiohttp.ClientSession | None = None
        self.dropped = 0
        self.failed = 0

    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        self._workers = [asyncio.create_task(self._work()) for _ in range(self._worker_count)]

    def emit(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    async def close(self, drain_seconds: float = 2.0) -> None:
        """Send what is queued (up to `drain_seconds`), then stop the workers."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._queue.join(), drain_seconds)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _work(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._send(event)
            except Exception as exc:  # a broken sink must never take the engine down
                self.failed += 1
                log.warning("request log to %s failed: %s", event.url, exc)
            finally:
                self._queue.task_done()

    async def _send(self, event: Event) -> None:
        headers = {
            **self._headers,
            "Ce-Id": str(uuid.uuid4()),
            "Ce-Requestid": event.puid,
            "Ce-Type": event.event_type,
            "Ce-Modelid": event.node,
            "Ce-Time": datetime.now(UTC).isoformat(),
            "Content-Type": event.content_type,
        }
        session = self._session
        assert session is not None, "events are sent by the workers start() begins"
        async with session.post(event.url, data=event.body, headers=headers) as response:
            await response.read()
            if response.status >= 300:
                raise RuntimeError(f"sink answered HTTP {response.status}")
