"""Failures of unit calls as Seldon status errors that name the node, for REST and gRPC clients alike.

A unit's own error keeps its status code and reason; the engine adds which node said it. Transport failures
become 503 (unreachable) or 504 (too slow), so a client can tell a broken model from a broken network.
"""

from __future__ import annotations

import grpc
import orjson

from seldon_graph import status_codes
from seldon_graph.errors import ENGINE_TIMEOUT, ENGINE_UNAVAILABLE, INTERNAL_ERROR, SeldonError

HTTP_TO_GRPC = {status: grpc.StatusCode[name] for status, name in status_codes.HTTP_TO_GRPC.items()}
GRPC_TO_HTTP = {grpc.StatusCode[name]: status for name, status in status_codes.GRPC_TO_HTTP.items()}


class UnitError(SeldonError):
    """A SeldonError raised by a unit call; `grpc_code` is the status a gRPC client gets."""

    def __init__(
        self, info: str, status_code: int, reason: str, grpc_code: grpc.StatusCode | None = None, code: int = -1
    ):
        super().__init__(info, status_code, reason, code)
        self.grpc_code = grpc_code or HTTP_TO_GRPC.get(status_code, grpc.StatusCode.UNKNOWN)


def grpc_code_of(error: SeldonError) -> grpc.StatusCode:
    """The gRPC status for any SeldonError."""
    if isinstance(error, UnitError):
        return error.grpc_code
    fallback = grpc.StatusCode.INVALID_ARGUMENT if 400 <= error.status_code < 500 else grpc.StatusCode.INTERNAL
    return HTTP_TO_GRPC.get(error.status_code, fallback)


def unreachable(node: str, url: str, detail: object) -> UnitError:
    return UnitError(f"Unit '{node}' at {url} is unreachable: {detail}", 503, ENGINE_UNAVAILABLE)


def timed_out(node: str, url: str, step: str, seconds: float | None) -> UnitError:
    limit = f" within {seconds * 1000:g} ms" if seconds else ""
    return UnitError(f"Unit '{node}' at {url} did not answer {step}{limit}", 504, ENGINE_TIMEOUT)


def from_rest_reply(node: str, step: str, status: int, body: bytes) -> UnitError:
    """The unit's non-2xx reply, keeping its status, reason and info, prefixed with the node name."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    status_block = parsed.get("status") if isinstance(parsed, dict) else None
    if isinstance(status_block, dict) and status_block.get("info") is not None:
        code = status_block.get("code", -1)
        return UnitError(
            f"Unit '{node}' failed {step}: {status_block.get('info')}",
            status,
            str(status_block.get("reason") or INTERNAL_ERROR),
            code=code if isinstance(code, int) else -1,
        )
    text = body[:500].decode("utf-8", errors="replace")
    return UnitError(f"Unit '{node}' failed {step} with HTTP {status}: {text}", status, INTERNAL_ERROR)


def from_grpc_error(node: str, url: str, step: str, error: grpc.aio.AioRpcError, timeout: float | None) -> UnitError:
    code = error.code()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return timed_out(node, url, step, timeout)
    if code == grpc.StatusCode.UNAVAILABLE:
        return unreachable(node, url, error.details())
    status = GRPC_TO_HTTP.get(code, 500)
    return UnitError(f"Unit '{node}' failed {step}: {code.name} {error.details()}", status, INTERNAL_ERROR, code)
