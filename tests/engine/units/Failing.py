try:
    from seldon_core.flask_utils import SeldonMicroserviceException
except ImportError:  # our wrapper: any exception with status_code and reason keeps them

    class SeldonMicroserviceException(Exception):
        def __init__(self, message, status_code=400, reason="MICROSERVICE_BAD_DATA"):
            super().__init__(message)
            self.message, self.status_code, self.reason = message, status_code, reason


class Failing:
    """MODEL that always refuses with its own status: 418, reason MY_REASON."""

    def predict(self, X, features_names=None):
        raise SeldonMicroserviceException("custom failure", status_code=418, reason="MY_REASON")
