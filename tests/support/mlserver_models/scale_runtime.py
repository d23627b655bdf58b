"""A custom MLServer runtime for the tests: a V2 transformer that doubles its first input tensor."""

from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class Scale(MLModel):
    async def load(self) -> bool:
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        first = payload.inputs[0]
        doubled = NumpyCodec.decode_input(first) * 2
        output = NumpyCodec.encode_output(name="scaled", payload=doubled)
        return InferenceResponse(model_name=self.name, id=payload.id, outputs=[output])
