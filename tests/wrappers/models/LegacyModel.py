"""seldon-core's deprecated per-transport methods (UserObjectLowLevel in python/tests/test_model_microservice.py)."""

import json

import numpy as np
from seldon_core.proto import prediction_pb2


class LegacyModel:
    def __init__(self):
        self.feedback = []

    def predict_rest(self, request):
        return {"data": {"ndarray": [9, 9]}, "meta": {"tags": {"got": sorted(request)}}}

    def predict_grpc(self, request):
        values = np.array([9, 9])
        return prediction_pb2.SeldonMessage(
            data=prediction_pb2.DefaultData(tensor=prediction_pb2.Tensor(shape=(2, 1), values=values))
        )

    def transform_input_rest(self, request):
        return {"strData": "legacy transform"}

    def send_feedback_rest(self, request):
        self.feedback.append(json.loads(request)["reward"])
        return {"jsonData": {"rewards": self.feedback}}
