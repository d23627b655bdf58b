"""SeldonMicroserviceException as seldon-core defines its interface: a message, an HTTP code, a reason."""

from __future__ import annotations

from typing import Any


class SeldonMicroserviceException(Exception):
    """A failure a model reports to its client; the wrapper answers with its status code and reason."""

    status_code = 400

    def __init__(
        self, message: str, status_code: int | None = None, payload: Any = None, reason: str = "MICROSERVICE_BAD_DATA"
    ):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.payload = payload
        self.reason = reason

    def to_dict(self) -> dict:
        return {"status": {"status": 1, "info": self.message, "code": -1, "reason": self.reason}}
