"""V2 (Open Inference Protocol) bodies in flight, REST and gRPC, and how a reply becomes the next request.

REST: a JSON document, optionally followed by raw tensor bytes (the binary data extension: the JSON's length is in
the `Inference-Header-Content-Length` header). gRPC: a serialized ModelInferRequest or ModelInferResponse. In both,
a node's reply is chained to the next node by turning its `outputs` into `inputs`, keeping `id` and `parameters`;
tensor data (JSON numbers, binary bytes, `raw_*_contents`) is never decoded.
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

from seldon_graph.engine.protocols import json_keys, proto_fields
from seldon_graph.engine.unit_errors import UnitError
from seldon_graph.errors import BAD_DATA, INTERNAL_ERROR, SeldonError

HEADER_LENGTH = "inference-header-content-length"
JSON_TYPE = "application/json"
BINARY_TYPE = "application/octet-stream"
FULL_CHECK_LIMIT = 256 * 1024
NO_TAGS: dict = {}  # V2 messages carry no Seldon tags; shared and never written (the walk only merges non-empty)

# ModelInferRequest / ModelInferResponse field numbers (inference.proto).
MODEL_NAME, MODEL_VERSION, ID, PARAMETERS, TENSORS = 1, 2, 3, 4, 5
REQUESTED_OUTPUTS, RAW_INPUTS, RAW_OUTPUTS = 6, 7, 6


class Wire(NamedTuple):
    """An InferBody as sent over HTTP: its buffers in order (the JSON document, then the binary tensor data, if
    any, sent as it is: never joined into a copy), the content type and the JSON's length for
    `Inference-Header-Content-Length` (None for a JSON-only body)."""

    parts: tuple[bytes | memoryview, ...]
    content_type: str
    header_length: int | None

    def joined(self) -> bytes:
        """The whole body in one bytes object (a copy: for the request logger, not the hot path)."""
        return b"".join(self.parts)


class InferBody:
    """A V2 REST body: the JSON part, the binary tensor bytes after it, and whether it is a reply (`outputs`).

    `binary` is usually a memoryview into the body the engine received: the tensor bytes are never copied between
    the socket that brought them and the socket that sends them on."""

    __slots__ = ("document", "binary", "is_reply")
    tags = NO_TAGS

    def __init__(self, document: bytes, binary: bytes | memoryview = b"", is_reply: bool = False):
        self.document = document
        self.binary = binary
        self.is_reply = is_reply

    @classmethod
    def from_http(cls, body: bytes, header_length: str | bytes | None, is_reply: bool) -> InferBody:
        """Split a body at `Inference-Header-Content-Length` (the whole body is JSON without that header)."""
        if header_length is None:
            return cls(body, b"", is_reply)
        try:
            length = int(header_length)
        except ValueError:
            length = -1
        if not 0 <= length <= len(body):
            raise SeldonError(
                f"Inference-Header-Content-Length {header_length!r} does not fit a body of {len(body)} bytes",
                400,
                BAD_DATA,
            )
        if length == len(body):
            return cls(body, b"", is_reply)
        return cls(body[:length], memoryview(body)[length:], is_reply)

    def wire(self) -> Wire:
        """The buffers, content type and JSON header length to send this body over HTTP."""
        if not self.binary:
            return Wire((self.document,), JSON_TYPE, None)
        return Wire((self.document, self.binary), BINARY_TYPE, len(self.document))

    def as_request(self) -> InferBody:
        """This body as the next node's request: a reply's `outputs` become `inputs`, everything else is kept."""
        if not self.is_reply:
            return self
        if self.binary:  # the JSON part is only tensor descriptions: small, parse it
            value = orjson.loads(self.document)
            chained = {("inputs" if key == "outputs" else key): item for key, item in value.items()}
            return InferBody(orjson.dumps(chained), self.binary)
        document = json_keys.rename_key(self.document, "outputs", "inputs")
        return InferBody(document if document is not None else self.document, self.binary)


def checked_request(body: InferBody) -> InferBody:
    """A client's infer request, checked enough to answer a malformed one with a precise 400 (a large JSON body is
    only searched for `inputs`: the unit checks its tensors anyway)."""
    if len(body.document) > FULL_CHECK_LIMIT:
        if not json_keys.has_key(body.document, "inputs"):
            raise SeldonError("The inference request has no 'inputs'", 400, BAD_DATA)
        return body
    try:
        value = orjson.loads(body.document)
    except orjson.JSONDecodeError as exc:
        raise SeldonError(f"Invalid JSON in the inference request: {exc}", 400, BAD_DATA) from exc
    if not isinstance(value, dict):
        raise SeldonError(f"The inference request must be a JSON object, got {type(value).__name__}", 400, BAD_DATA)
    inputs = value.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise SeldonError("The inference request needs 'inputs': a non-empty list of tensors", 400, BAD_DATA)
    for index, tensor in enumerate(inputs):
        if not isinstance(tensor, dict) or not all(key in tensor for key in ("name", "shape", "datatype")):
            raise SeldonError(f"inputs[{index}] needs 'name', 'shape' and 'datatype'", 400, BAD_DATA)
    return body


def checked_reply(node: str, body: InferBody) -> InferBody:
    """A unit's infer reply, which must hold `outputs` (or `inputs`, from a transformer) to be chained."""
    if body.binary or len(body.document) <= 64 * 1024:
        try:
            value = orjson.loads(body.document)
        except orjson.JSONDecodeError:
            value = None
        keys = value if isinstance(value, dict) else {}
        has_outputs, has_inputs = "outputs" in keys, "inputs" in keys
    else:
        has_outputs = json_keys.has_key(body.document, "outputs")
        has_inputs = not has_outputs and json_keys.has_key(body.document, "inputs")
    if not (has_outputs or has_inputs):
        excerpt = body.document[:200].decode("utf-8", errors="replace")
        raise UnitError(
            f"Unit '{node}' answered a body that is not a V2 inference response (no 'outputs'): {excerpt}",
            500,
            INTERNAL_ERROR,
            node=node,
        )
    body.is_reply = has_outputs
    return body


class InferProto:
    """A V2 gRPC message: a serialized ModelInferRequest, or a ModelInferResponse (`is_reply`) still to be chained."""

    __slots__ = ("raw", "is_reply")
    tags = NO_TAGS

    def __init__(self, raw: bytes, is_reply: bool = False):
        self.raw = raw
        self.is_reply = is_reply

    def request_for(self, model: str) -> bytes:
        """The ModelInferRequest for node `model`: outputs → inputs, raw_output_contents → raw_input_contents."""
        name = proto_fields.length_delimited(MODEL_NAME, model.encode())
        if self.is_reply:
            return proto_fields.rewrite(
                self.raw, {RAW_OUTPUTS: RAW_INPUTS}, frozenset({MODEL_NAME, MODEL_VERSION}), prefix=name
            )
        return proto_fields.rewrite(self.raw, {}, frozenset({MODEL_NAME}), prefix=name)

    def response(self) -> bytes:
        """The ModelInferResponse to answer a client with (a request that no unit answered echoes its inputs)."""
        if self.is_reply:
            return self.raw
        return proto_fields.rewrite(self.raw, {RAW_INPUTS: RAW_OUTPUTS}, frozenset({REQUESTED_OUTPUTS}))


def checked_proto_reply(node: str, raw: bytes) -> InferProto:
    if not any(item.number in (TENSORS, RAW_OUTPUTS) for item in proto_fields.fields(raw)):
        raise UnitError(f"Unit '{node}' answered a ModelInferResponse without outputs", 500, INTERNAL_ERROR, node=node)
    return InferProto(raw, is_reply=True)
