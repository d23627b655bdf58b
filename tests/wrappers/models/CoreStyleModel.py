"""A model written against seldon-core's API, imports included."""

from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.metrics import create_counter, create_timer
from seldon_core.proto import prediction_pb2
from seldon_core.user_model import SeldonComponent, SeldonResponse


class CoreStyleModel(SeldonComponent):
    def predict(self, X, names, meta=None):
        if float(X.flatten()[0]) < 0:
            raise SeldonMicroserviceException("negative input", status_code=422, reason="NEGATIVE")
        return SeldonResponse(X + 1, tags={"style": "core"}, metrics=[create_counter("calls", 1), create_timer("t", 3)])

    def route_raw(self, msg):
        assert isinstance(msg, (dict, prediction_pb2.SeldonMessage))
        return prediction_pb2.SeldonMessage(strData="raw-route")
