from google.protobuf import json_format


class RawModel:
    """The *_raw contract: the request as it came (dict over REST, proto over gRPC), the response as returned."""

    def predict_raw(self, msg):
        if isinstance(msg, dict):
            return {
                "jsonData": {"got": msg, "transport": "rest"},
                "meta": {"metrics": [{"key": "raw_calls", "type": "COUNTER", "value": 1}]},
            }
        body = json_format.MessageToDict(msg)
        return {"jsonData": {"got": body, "transport": "grpc"}}

    def health_status_raw(self):
        return {"strData": "raw-healthy"}

    def route_raw(self, msg):
        return {"data": {"ndarray": [[-1]]}, "status": {"code": 200, "status": "SUCCESS"}}
