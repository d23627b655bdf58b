"""What the V2 and TensorFlow gRPC APIs share: unit clients with predict-like calls only, and the engine's services
around one predict method plus metadata calls.

Seldon's executor panicked on a router or combiner with either protocol over gRPC (Route and Combine are
`panic("implement me")` / `panic("Not implemented")` in executor/api/grpc/kfserving/client.go and
tensorflow/client.go, and its gRPC server has no recovery, so the process died); here such a call is refused with
UNIMPLEMENTED (HTTP 501) naming the node. Every call of these services is counted in the server histogram under its
full method name, as the executor's interceptor counts them (executor/api/metric/server.go).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from seldon_graph.engine.grpc_server import abort_with
from seldon_graph.engine.grpc_unit import GrpcUnit
from seldon_graph.engine.metrics import grpc_code_label
from seldon_graph.engine.request_state import PUID_KEY, RequestState
from seldon_graph.engine.unit_errors import UnitError, grpc_code_of
from seldon_graph.errors import ENGINE_BAD_REQUEST, SeldonError

if TYPE_CHECKING:
    from seldon_graph.engine.graph import Graph
    from seldon_graph.engine.protocols import RpcMessage
    from seldon_graph.engine.unit_pool import CallContext

log = logging.getLogger(__name__)
Handler = Callable[[Any, grpc.aio.ServicerContext], Awaitable[bytes]]


def no_grpc_call(api: str, node: str, step: str) -> UnitError:
    """The refusal of a step the protocol's gRPC API has no call for (route, aggregate)."""
    return UnitError(
        f"Unit '{node}': the {api} gRPC API has no {step} call", 501, ENGINE_BAD_REQUEST, grpc.StatusCode.UNIMPLEMENTED
    )


class PredictOnlyUnit(GrpcUnit):
    """A unit whose gRPC API has only the calls in `methods`; any other step is refused before it is sent."""

    api = ""  # the protocol's name in the refusal

    async def call(self, step: str, body: bytes, context: CallContext) -> bytes:
        if step not in self.methods:
            raise no_grpc_call(self.api, self.node, step)
        return await self._invoke(step, body, context.grpc_metadata())

    def labels(self, step: str) -> tuple[str, str]:
        """A refused step is counted under its own name (no gRPC method was called)."""
        return self.methods.get(step, step), "unary"


@dataclass(frozen=True)
class PredictMethod:
    """The per-protocol parts of the engine's predict call: its gRPC method name, the message a request becomes,
    and how to read the model the client named (empty when it named none)."""

    name: str
    message: Callable[[bytes], RpcMessage]
    model_name: Callable[[bytes], str | None]


class ProtocolService:
    """A gRPC service of one protocol bound to a graph walked over gRPC units."""

    def __init__(self, graph: Graph, service: str):
        self.graph = graph
        self.service = service
        self.metrics = graph.metrics

    def served(self, name: str, handler: Handler) -> Handler:
        """`handler` as the call `name`: its failures become statuses whose details name the node (with the
        `seldon-failed-node` trailer when a unit failed), and every call is counted."""

        async def serve(request: Any, context: grpc.aio.ServicerContext) -> bytes:
            started, code = time.perf_counter(), grpc.StatusCode.OK
            try:
                return await handler(request, context)
            except SeldonError as exc:
                code = grpc_code_of(exc)
                await abort_with(context, exc, verbatim=False)
            except Exception as exc:  # a bug must still answer with a status that says what happened
                log.exception("unexpected failure in %s", name)
                code = grpc.StatusCode.INTERNAL
                await context.abort(code, f"Engine failure: {exc!r}")
            finally:
                self._observe(name, code, started)

        return serve

    def predict_handler(self, method: PredictMethod) -> Handler:
        """The served call that walks the graph with a serialized request of `method`."""

        async def predict(raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
            metadata = tuple(context.invocation_metadata() or ())
            request = RequestState(next((value for key, value in metadata if key == PUID_KEY), None), metadata)
            await context.send_initial_metadata(((PUID_KEY, request.puid),))
            model = method.model_name(raw)
            if model:
                self.graph.node(model)
            span = None if self.graph.tracer is None else self.graph.tracer.begin_request(request, method.name, "GRPC")
            status = "OK"
            try:
                result, _ = await self.graph.predict(method.message(raw), {}, request)
            except Exception as exc:
                status = grpc_code_of(exc).name if isinstance(exc, SeldonError) else "INTERNAL"
                raise
            finally:
                if span is not None:
                    assert self.graph.tracer is not None, "the span is the tracer's"
                    self.graph.tracer.end(span, status, status != "OK")
            return result.response()

        return self.served(method.name, predict)

    def _observe(self, name: str, code: grpc.StatusCode, started: float) -> None:
        if self.metrics is not None:
            elapsed = time.perf_counter() - started
            self.metrics.server(f"/{self.service}/{name}", "unary", grpc_code_label(code), elapsed)


def passed_through(reply: bytes) -> bytes:
    """The serializer of replies that are already serialized."""
    return reply
