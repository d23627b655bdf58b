"""A user class's `model_error_handler`: the Flask Blueprint whose `app_errorhandler` functions answer the
exceptions they were registered for, as seldon-core registers that blueprint on its Flask app.

Flask is only imported for classes that have a blueprint, so it is importable there (the class built one).
The handlers are read off the blueprint by registering it on a private Flask app; a handler runs inside that
app's request context (so `jsonify` works) and its return value becomes the HTTP response as Flask would make it.
seldon-core's own handlers for `Exception` and `SeldonMicroserviceException` are registered after the
blueprint, so those two classes keep the wrapper's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seldon_graph.http11 import Response

ATTRIBUTE = "model_error_handler"
KEPT_BY_WRAPPER = frozenset({"Exception", "BaseException", "SeldonMicroserviceException"})
FLASK_OWN_HEADERS = frozenset({"content-type", "content-length"})


class UserErrorHandlers:
    """The exception handlers of one user class's blueprint."""

    def __init__(self, blueprint: Any):
        import flask

        self.app = flask.Flask(__name__)
        self.app.register_blueprint(blueprint)
        self.handlers: dict[type, Callable] = dict(self.app.error_handler_spec[None][None])

    @classmethod
    def of(cls, user_object: Any) -> UserErrorHandlers | None:
        """The handlers of `user_object`'s `model_error_handler`, or None when it has none."""
        blueprint = getattr(user_object, ATTRIBUTE, None)
        return cls(blueprint) if blueprint is not None else None

    def handler_for(self, exc: BaseException) -> Callable | None:
        """The handler of the most specific class of `exc` that has one, as Flask looks it up."""
        for cls in type(exc).__mro__:
            if cls.__name__ in KEPT_BY_WRAPPER:
                return None
            if cls in self.handlers:
                return self.handlers[cls]
        return None

    def respond(self, exc: BaseException, extra_headers: dict) -> Response | None:
        """The user's answer to `exc`, or None when no handler of theirs takes it."""
        handler = self.handler_for(exc)
        if handler is None:
            return None
        with self.app.test_request_context():
            answer = self.app.make_response(handler(exc))
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in FLASK_OWN_HEADERS}
        return Response(answer.status_code, answer.get_data(), answer.content_type or "", {**extra_headers, **headers})
