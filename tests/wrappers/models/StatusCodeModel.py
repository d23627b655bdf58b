class PaymentRequired(Exception):
    """Not a SeldonMicroserviceException, so its status_code does not choose the answer."""

    status_code = 402


class StatusCodeModel:
    def predict(self, X, features_names=None):
        raise PaymentRequired("pay first")
