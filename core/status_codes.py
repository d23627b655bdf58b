"""The HTTP status ⇄ gRPC status correspondence shared by the wrapper's and the engine's gRPC sides.

Held by gRPC StatusCode *name* because core does not import grpc; each side resolves a name with
`grpc.StatusCode[name]`. What a status outside the map becomes differs by side and stays there.
"""

from __future__ import annotations

HTTP_TO_GRPC: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
GRPC_TO_HTTP: dict[str, int] = {
    **{name: status for status, name in HTTP_TO_GRPC.items()},
    "UNIMPLEMENTED": 501,
    "RESOURCE_EXHAUSTED": 429,
}
