"""Failures of unit calls, for REST and gRPC clients alike (decision 6).

A unit's own error reaches the client verbatim, as the Seldon executor passes it on: a REST reply's status and
body byte for byte, a gRPC status's code and details. The failing node is carried beside it (`node`), for the
`Seldon-Failed-Node` header, the gRPC trailing metadata and the log. Failures the engine makes itself name the
node in their text: 503 (unreachable), 504 (too slow), so a client can tell a broken model from a broken network.
"""

from __future__ import annotations

import grpc
import orjson

from seldon_graph import status_codes
from seldon_graph.errors import ENGINE_TIMEOUT, ENGINE_UNAVAILABLE, INTERNAL_ERROR, SeldonError

FAILED_NODE_HEADER = "Seldon-Failed-Node"
FAILED_NODE_KEY = FAILED_NODE_HEADER.lower()  # as gRPC metadata spells it
HTTP_TO_GRPC = {status: grpc.StatusCode[name] for status, name in status_codes.HTTP_TO_GRPC.items()}
GRPC_TO_HTTP = {grpc.StatusCode[name]: status for name, status in status_codes.GRPC_TO_HTTP.items()}


class UnitError(SeldonError):
    """A SeldonError raised by a unit call; `grpc_code` is the status a gRPC client gets, `node` the node that
    failed. `reply` (with `reply_type`) is a REST unit's own error body and `details` a gRPC unit's own status
    text, both passed on verbatim to a client of the same transport; `info` is the engine's node-naming text for
    everything else."""

    def __init__(
        self,
        info: str,
        status_code: int,
        reason: str,
        grpc_code: grpc.StatusCode | None = None,
        code: int = -1,
        *,
        node: str = "",
        reply: bytes | None = None,
        reply_type: str = "",
        details: str | None = None,
    ):
        super().__init__(info, status_code, reason, code)
        self.grpc_code = grpc_code or HTTP_TO_GRPC.get(status_code, grpc.StatusCode.UNKNOWN)
        self.node = node
        self.reply = reply
        self.reply_type = reply_type
        self.details = details


def grpc_code_of(error: SeldonError) -> grpc.StatusCode:
    """The gRPC status for any SeldonError."""
    if isinstance(error, UnitError):
        return error.grpc_code
    fallback = grpc.StatusCode.INVALID_ARGUMENT if 400 <= error.status_code < 500 else grpc.StatusCode.INTERNAL
    return HTTP_TO_GRPC.get(error.status_code, fallback)


def grpc_details(error: SeldonError) -> str:
    """The status details a gRPC client gets: a gRPC unit's own details verbatim, else the engine's text."""
    if isinstance(error, UnitError) and error.details is not None:
        return error.details
    return error.info


def failed_node(error: SeldonError) -> str:
    """The node a failure came from, "" when it is not a unit's."""
    return error.node if isinstance(error, UnitError) else ""


def unreachable(node: str, url: str, detail: object) -> UnitError:
    return UnitError(f"Unit '{node}' at {url} is unreachable: {detail}", 503, ENGINE_UNAVAILABLE, node=node)


def timed_out(node: str, url: str, step: str, seconds: float | None) -> UnitError:
    limit = f" within {seconds * 1000:g} ms" if seconds else ""
    return UnitError(f"Unit '{node}' at {url} did not answer {step}{limit}", 504, ENGINE_TIMEOUT, node=node)


def from_rest_reply(node: str, step: str, status: int, body: bytes, content_type: str = "") -> UnitError:
    """The unit's non-2xx reply, kept verbatim for REST clients; `info` (for gRPC clients) names the node and
    keeps the unit's reason and info."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    reply_type = content_type or "application/json"
    status_block = parsed.get("status") if isinstance(parsed, dict) else None
    if isinstance(status_block, dict) and status_block.get("info") is not None:
        code = status_block.get("code", -1)
        return UnitError(
            f"Unit '{node}' failed {step}: {status_block.get('info')}",
            status,
            str(status_block.get("reason") or INTERNAL_ERROR),
            code=code if isinstance(code, int) else -1,
            node=node,
            reply=body,
            reply_type=reply_type,
        )
    text = body[:500].decode("utf-8", errors="replace")
    return UnitError(
        f"Unit '{node}' failed {step} with HTTP {status}: {text}",
        status,
        INTERNAL_ERROR,
        node=node,
        reply=body,
        reply_type=reply_type,
    )


def from_grpc_error(node: str, url: str, step: str, error: grpc.aio.AioRpcError, timeout: float | None) -> UnitError:
    """A unit's gRPC status: its code and details pass on verbatim to gRPC clients; REST clients get a Seldon
    status body naming the node. No answer in time or no connection are the engine's 504 and 503."""
    code = error.code()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return timed_out(node, url, step, timeout)
    if code == grpc.StatusCode.UNAVAILABLE:
        return unreachable(node, url, error.details())
    status = GRPC_TO_HTTP.get(code, 500)
    details = error.details() or ""
    return UnitError(
        f"Unit '{node}' failed {step}: {code.name} {details}", status, INTERNAL_ERROR, code, node=node, details=details
    )


def error_body(info: str) -> bytes:
    """The error body of the V2 and TensorFlow APIs, `{"error": "..."}` (what `error_body_failure` reads)."""
    return orjson.dumps({"error": info})


def error_body_failure(node: str, path: str, status: int, body: bytes) -> UnitError:
    """A V2 or TensorFlow unit's non-2xx reply as an error naming the node, keeping its status and the `error` text
    both protocols put in their error bodies (the body's start when it has none)."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    detail = parsed.get("error") if isinstance(parsed, dict) else None
    if detail is None:
        detail = body[:500].decode("utf-8", errors="replace") or f"HTTP {status}"
    return UnitError(f"Unit '{node}' failed {path} with HTTP {status}: {detail}", status, INTERNAL_ERROR, node=node)
