"""A model with a Flask Blueprint of error handlers, as seldon-core's docs and
python/tests/test_application_exception_microservice.py write it."""

import flask
from flask import jsonify


class UserCustomException(Exception):
    status_code = 404

    def __init__(self, message, application_error_code, http_status_code):
        Exception.__init__(self)
        self.message = message
        if http_status_code is not None:
            self.status_code = http_status_code
        self.application_error_code = application_error_code

    def to_dict(self):
        return {
            "status": {"status": self.status_code, "message": self.message, "app_code": self.application_error_code}
        }


class PlainText(Exception):
    pass


class ErrorHandlerModel:
    model_error_handler = flask.Blueprint("error_handlers", __name__)

    @model_error_handler.app_errorhandler(UserCustomException)
    def handle_custom_error(error):
        response = jsonify(error.to_dict())
        response.status_code = error.status_code
        return response

    @model_error_handler.app_errorhandler(PlainText)
    def handle_plain_text(error):
        return f"plain: {error}", 409, {"X-Handled": "yes"}

    def predict(self, X, features_names, **kwargs):
        raise UserCustomException("Test-Error-Msg", 1402, 402)

    def transform_input(self, X, features_names=None):
        raise PlainText("as text")

    def route(self, X, features_names=None):
        raise ValueError("not handled by the blueprint")
