from seldon_core.flask_utils import SeldonMicroserviceException


class Failing:
    """MODEL that always refuses with its own status: 418, reason MY_REASON."""

    def predict(self, X, features_names=None):
        raise SeldonMicroserviceException("custom failure", status_code=418, reason="MY_REASON")
