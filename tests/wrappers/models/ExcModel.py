try:
    from seldon_core.flask_utils import SeldonMicroserviceException
except ImportError:  # the same shape as seldon-core's exception, for runs without seldon-core installed

    class SeldonMicroserviceException(Exception):
        status_code = 400

        def __init__(self, message, status_code=None, payload=None, reason="MICROSERVICE_BAD_DATA"):
            Exception.__init__(self)
            self.message = message
            if status_code is not None:
                self.status_code = status_code
            self.reason = reason


class ExcModel:
    def predict(self, X, features_names=None):
        raise SeldonMicroserviceException("custom failure", status_code=418, reason="MY_REASON")
