"""TensorFlow Serving bodies in flight, REST and gRPC, and how a reply becomes the next node's request.

REST: a `:predict` JSON document; a reply's `predictions` become the next request's `instances` (and a columnar
reply's `outputs` become `inputs`). gRPC: a serialized PredictRequest or PredictResponse; the response's `outputs`
map becomes the request's `inputs` map by renumbering the field. Tensors are never decoded.
"""

from __future__ import annotations

from seldon_graph.engine.protocols import json_keys, proto_fields
from seldon_graph.engine.unit_errors import UnitError
from seldon_graph.errors import BAD_DATA, INTERNAL_ERROR, SeldonError
from seldon_graph.proto import tensorflow_serving_pb2 as pb

NO_TAGS: dict = {}  # TensorFlow messages carry no Seldon tags; shared and never written
REQUEST_KEYS = ("instances", "inputs")
CHAINED = {"predictions": "instances", "outputs": "inputs"}  # reply key → request key
# PredictRequest: model_spec 1, inputs 2, output_filter 3. PredictResponse: outputs 1, model_spec 2.
REQUEST_SPEC, REQUEST_INPUTS, OUTPUT_FILTER = 1, 2, 3
RESPONSE_OUTPUTS, RESPONSE_SPEC = 1, 2


class PredictBody:
    """A `:predict` JSON document; `reply_key` is the key to rename when it is a reply still to be chained."""

    __slots__ = ("document", "reply_key")
    tags = NO_TAGS

    def __init__(self, document: bytes, reply_key: str | None = None):
        self.document = document
        self.reply_key = reply_key

    def as_request(self) -> PredictBody:
        if self.reply_key is None:
            return self
        renamed = json_keys.rename_key(self.document, self.reply_key, CHAINED[self.reply_key])
        return PredictBody(renamed if renamed is not None else self.document)


def checked_request(document: bytes) -> PredictBody:
    if not any(json_keys.has_key(document, key) for key in REQUEST_KEYS):
        raise SeldonError("The predict request needs 'instances' or 'inputs' in a JSON object", 400, BAD_DATA)
    return PredictBody(document)


def checked_reply(node: str, document: bytes) -> PredictBody:
    for key in CHAINED:
        if json_keys.has_key(document, key):
            return PredictBody(document, key)
    if any(json_keys.has_key(document, key) for key in REQUEST_KEYS):
        return PredictBody(document)
    excerpt = document[:200].decode("utf-8", errors="replace")
    raise UnitError(
        f"Unit '{node}' answered a body that cannot be chained (no 'predictions' or 'outputs'): {excerpt}",
        500,
        INTERNAL_ERROR,
        node=node,
    )


class PredictProto:
    """A serialized PredictRequest, or a PredictResponse (`is_reply`) still to be chained."""

    __slots__ = ("raw", "is_reply")
    tags = NO_TAGS

    def __init__(self, raw: bytes, is_reply: bool = False):
        self.raw = raw
        self.is_reply = is_reply

    def request_for(self, model: str) -> bytes:
        spec = proto_fields.length_delimited(REQUEST_SPEC, pb.ModelSpec(name=model).SerializeToString())
        if self.is_reply:
            return proto_fields.rewrite(self.raw, {RESPONSE_OUTPUTS: REQUEST_INPUTS}, frozenset({RESPONSE_SPEC}), spec)
        return proto_fields.rewrite(self.raw, {}, frozenset({REQUEST_SPEC}), spec)

    def response(self) -> bytes:
        if self.is_reply:
            return self.raw
        return proto_fields.rewrite(
            self.raw, {REQUEST_INPUTS: RESPONSE_OUTPUTS}, frozenset({REQUEST_SPEC, OUTPUT_FILTER})
        )


def checked_proto_reply(node: str, raw: bytes) -> PredictProto:
    if not proto_fields.has_field(raw, RESPONSE_OUTPUTS):
        raise UnitError(f"Unit '{node}' answered a PredictResponse without outputs", 500, INTERNAL_ERROR, node=node)
    return PredictProto(raw, is_reply=True)


def model_name(raw: bytes) -> str:
    """`model_spec.name` of a serialized PredictRequest or GetModelMetadataRequest ('' when absent)."""
    for item in proto_fields.fields(raw):
        if item.number == REQUEST_SPEC and item.wire_type == 2:
            return pb.ModelSpec.FromString(raw[item.value_start : item.end]).name
    return ""
