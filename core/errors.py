"""Seldon status errors: one exception type, one JSON rendering, shared by wrapper and engine.

Every client-visible failure is rendered as `{"status":{"code":-1,"info":…,"reason":…,"status":1}}`
with an HTTP status code, exactly as the Seldon v1 wrapper does.
"""

from __future__ import annotations

import orjson

BAD_DATA = "MICROSERVICE_BAD_DATA"
INTERNAL_ERROR = "MICROSERVICE_INTERNAL_ERROR"
BAD_PARAMETER = "MICROSERVICE_BAD_PARAMETER"
BAD_METADATA = "MICROSERVICE_BAD_METADATA"
ENGINE_UNAVAILABLE = "ENGINE_UNIT_UNAVAILABLE"
ENGINE_TIMEOUT = "ENGINE_UNIT_TIMEOUT"
ENGINE_INVALID_ROUTING = "ENGINE_INVALID_ROUTING"
ENGINE_BAD_REQUEST = "ENGINE_BAD_REQUEST"
NOT_FOUND = "NOT_FOUND"


def status_body(info: str, reason: str, code: int = -1) -> dict:
    """The Seldon failure body for `info` and `reason`."""
    return {"status": {"code": code, "info": info, "reason": reason, "status": 1}}


class SeldonError(Exception):
    """A failure the client should see: an HTTP status code, a Seldon reason and a message saying what to fix."""

    def __init__(self, info: str, status_code: int = 400, reason: str = BAD_DATA, code: int = -1):
        super().__init__(info)
        self.info = info
        self.status_code = status_code
        self.reason = reason
        self.code = code

    def to_dict(self) -> dict:
        return status_body(self.info, self.reason, self.code)

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    def __repr__(self) -> str:
        return f"SeldonError({self.info!r}, status_code={self.status_code}, reason={self.reason!r})"


def from_user_exception(exc: BaseException) -> SeldonError:
    """Map any exception to a SeldonError.

    Exceptions that carry their own Seldon status (ours, or seldon-core's SeldonMicroserviceException, which
    has `status_code` and `to_dict()`/`reason`) keep their code and reason; anything else is a 500 with the
    exception's text, as the original wrapper answers.
    """
    if isinstance(exc, SeldonError):
        return exc
    status_code = getattr(exc, "status_code", None)
    if isinstance(status_code, int):
        reason = getattr(exc, "reason", None) or BAD_DATA
        info = getattr(exc, "message", None) or str(exc)
        return SeldonError(str(info), status_code, str(reason))
    return SeldonError(str(exc), 500, INTERNAL_ERROR)
