"""Like seldon-core's UserObjectLowLevelWithPredictRaw (python/tests/test_model_microservice.py): predict_raw reads
the request through seldon_core.utils and answers which payload kind arrived, its text and its size in bytes."""

from seldon_core.utils import json_to_seldon_message, seldon_message_to_json


class RawFileModel:
    def predict_raw(self, request):
        msg = json_to_seldon_message(request)
        kind = msg.WhichOneof("data_oneof")
        content = msg.binData if kind == "binData" else msg.strData.encode()
        return {
            "meta": seldon_message_to_json(msg.meta),
            "data": {"ndarray": [kind, content.decode("utf-8", errors="replace"), len(content)]},
        }
