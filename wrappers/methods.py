"""The Seldon microservice methods (predict, transform, route, aggregate, feedback, health) over one user class.

Transport-neutral: REST hands in JSON dicts, gRPC hands in protos. `*_raw` user methods receive the request
as it came; every other path converts the payload to numpy exactly once (from JSON or straight from the proto)
and builds the response as a JSON dict (meta handling as Seldon v1's wrapper: tags merged, metrics accumulated,
puid copied, requestPath added). Results are a JSON dict or a proto; the transport converts what it must.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

import numpy as np
from google.protobuf import any_pb2, json_format
from google.protobuf.message import Message

from seldon_graph import messages
from seldon_graph.errors import BAD_DATA, INTERNAL_ERROR, SeldonError, from_user_exception
from seldon_graph.numpy_codec import (
    as_array,
    default_data_json,
    default_data_to_array,
    features_from_json,
    features_from_proto,
    payload_json,
    response_kind,
)
from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.wrappers.encoding import to_seldon_message
from seldon_graph.wrappers.settings import UnitSettings
from seldon_graph.wrappers.user_model import (
    FeatureCall,
    UserModel,
    is_not_implemented,
    is_seldon_exception,
    unpack,
)

PREDICT = "predict"
INPUT_TRANSFORM = "inputtransform"
OUTPUT_TRANSFORM = "outputtransform"
ROUTER = "router"
AGGREGATE = "aggregate"
FEEDBACK = "feedback"
HEALTH = "health"

METRIC_TYPES = ("COUNTER", "GAUGE", "TIMER")
NO_REQUEST = object()
PAYLOAD_TYPES = (dict, str, bytes, bytearray, any_pb2.Any)  # results that are not arrays but still a payload
log = logging.getLogger(__name__)


def call_failure(exc: BaseException, method: str) -> SeldonError:
    """The Seldon status a failed call answers with (REST and gRPC alike); server-side failures are logged, with
    the traceback when the user's code raised something other than a Seldon status."""
    if isinstance(exc, SeldonError) or is_seldon_exception(exc):
        error = from_user_exception(exc)
    else:
        error = SeldonError(str(exc), 500, INTERNAL_ERROR)
    if error.status_code >= 500:
        log.error("%s failed: %s", method, error.info, exc_info=not isinstance(exc, SeldonError))
    return error


class MetricsSink(Protocol):
    """Where custom metrics and feedback rewards go (the Prometheus exporter, or nowhere)."""

    def record(self, metrics: list, method: str) -> None: ...

    def record_feedback(self, reward: float) -> None: ...


class NoMetrics:
    """A sink that drops everything (tests, tools)."""

    def record(self, metrics: list, method: str) -> None:
        pass

    def record_feedback(self, reward: float) -> None:
        pass


def valid_metrics(metrics: Any) -> bool:
    """Seldon's rule: a list of {key, type ∈ COUNTER/GAUGE/TIMER, numeric value}."""
    if not isinstance(metrics, list):
        return False
    for metric in metrics:
        if not isinstance(metric, dict) or not {"key", "type", "value"} <= metric.keys():
            return False
        if metric["type"] not in METRIC_TYPES or not isinstance(metric["value"], numbers.Number):
            return False
    return True


def _bad_metrics(metrics: Any) -> SeldonError:
    return SeldonError(f"Bad metric created during request: {metrics!r}", 500, "MICROSERVICE_BAD_METRIC")


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _is_seldon_message(value: Any) -> TypeGuard[pb.SeldonMessage]:
    """A SeldonMessage of any generated module: a `*_raw` method may build it with seldon-core's own classes, which
    have the same fields as ours but are not our class."""
    return isinstance(value, Message) and value.DESCRIPTOR.name == "SeldonMessage"


@dataclass(slots=True)
class Incoming:
    """A request message as the user's method sees it: numpy features once, names, meta."""

    features: Any
    names: list
    payload: str | None
    data_kind: str | None
    meta: dict | None
    puid: str | None


def incoming(message: Any) -> Incoming:
    """The Incoming view of a JSON message or a SeldonMessage proto (meta is {} for protos, as in seldon-core)."""
    if isinstance(message, pb.SeldonMessage):
        features, names, payload, data_kind = features_from_proto(message)
        meta = messages.to_dict(message.meta) if message.HasField("meta") else {}
        return Incoming(features, names, payload, data_kind, meta, message.meta.puid)
    features, names, payload, data_kind = features_from_json(message)
    meta = message.get("meta")
    return Incoming(features, names, payload, data_kind, meta, _dict(meta).get("puid"))


class UnitService:
    """One user object behind the Seldon microservice API."""

    def __init__(self, user: UserModel, settings: UnitSettings, sink: MetricsSink | None = None):
        self.user = user
        self.settings = settings
        self.sink = sink or NoMetrics()

    # ---- shared pieces -------------------------------------------------------------------------------------

    def _custom_metrics(self, method: str, runtime: list) -> list:
        if not valid_metrics(runtime):
            raise _bad_metrics(runtime)
        self.sink.record(runtime, method)
        own = self.user.optional("metrics", None)
        if own is not None:
            if not valid_metrics(own):
                raise _bad_metrics(own)
            self.sink.record(own, method)
        if not self.settings.include_metrics:
            return []
        return list(own or []) + runtime

    def _meta(self, puid: str | None, meta_in: dict | None, metrics: list, runtime_tags: dict) -> dict:
        meta_in = _dict(meta_in)
        tags = dict(_dict(meta_in.get("tags")))
        tags.update(self.user.optional("tags", None) or {})
        tags.update(runtime_tags)
        all_metrics = list(meta_in.get("metrics") or []) + metrics
        out: dict = {}
        if all_metrics:
            out["metrics"] = all_metrics
        if puid:
            out["puid"] = puid
        request_path = {**self.settings.request_path, **_dict(meta_in.get("requestPath"))}
        if request_path:
            out["requestPath"] = request_path
        if tags:
            out["tags"] = tags
        return out

    def _respond(
        self,
        puid: str | None,
        payload: str | None,
        data_kind: str | None,
        result: Any,
        meta_in: dict | None,
        metrics: list,
        runtime_tags: dict,
    ) -> dict:
        array = as_array(result)
        if array is None:
            if not isinstance(result, PAYLOAD_TYPES):
                raise SeldonError(f"Unknown data type returned as payload (must be list or np array):{result}")
            # a customData Any stays a proto: gRPC copies it as it is, REST prints it when its type is known
            body = {"customData": result} if isinstance(result, any_pb2.Any) else payload_json(result)
        else:
            kind = response_kind(array, payload, data_kind)
            names = self.user.class_names(array.ndim, array.shape[1] if array.ndim > 1 else 0)
            body = {"data": default_data_json(result, array, kind, names)}
        body["meta"] = self._meta(puid, meta_in, metrics, runtime_tags)
        return body

    def _raw(self, name: str, request: Any, method: str) -> Any:
        """The user's `*_raw` (or deprecated `*_rest`/`*_grpc`) result, or NotImplemented when the class has none
        (or it declines). The deprecated forms answer verbatim, as in seldon-core."""
        if self.user.legacy:
            legacy = self.user.legacy_method(name.removesuffix("_raw"), isinstance(request, Message))
            if legacy is not None:
                return legacy(request)
        raw = self.user.raw.get(name)
        if raw is None:
            return NotImplemented
        try:
            response = raw() if request is NO_REQUEST else raw(request)
        except Exception as exc:
            if is_not_implemented(exc):
                return NotImplemented
            raise
        self._raw_metrics(response, method)
        return response

    def _raw_metrics(self, response: Any, method: str) -> None:
        if _is_seldon_message(response):
            if response.meta.metrics:
                self.sink.record(messages.to_dict(response.meta).get("metrics", []), method)
                if not self.settings.include_metrics:
                    del response.meta.metrics[:]
        elif isinstance(response, dict):
            metrics = _dict(response.get("meta")).get("metrics")
            if metrics:
                self.sink.record(metrics, method)
                if not self.settings.include_metrics:
                    del response["meta"]["metrics"]

    def _call_features(self, call: FeatureCall | None, raw_name: str, method: str, request: Any, echo: bool) -> Any:
        response = self._raw(raw_name, request, method)
        if response is not NotImplemented:
            return response
        msg = incoming(request)
        result: Any = NotImplemented
        if call is not None:
            try:
                result = call(msg.features, msg.names, msg.meta)
            except Exception as exc:
                if not is_not_implemented(exc):
                    raise
        if result is NotImplemented:
            result = msg.features if echo else []
        data, tags, runtime_metrics = unpack(result)
        metrics = self._custom_metrics(method, runtime_metrics)
        return self._respond(msg.puid, msg.payload, msg.data_kind, data, msg.meta, metrics, tags)

    # ---- the API -------------------------------------------------------------------------------------------

    def predict(self, request: Any) -> Any:
        return self._call_features(self.user.predict, "predict_raw", PREDICT, request, echo=False)

    def transform_input(self, request: Any) -> Any:
        return self._call_features(self.user.transform_input, "transform_input_raw", INPUT_TRANSFORM, request, True)

    def transform_output(self, request: Any) -> Any:
        return self._call_features(self.user.transform_output, "transform_output_raw", OUTPUT_TRANSFORM, request, True)

    def route(self, request: Any) -> Any:
        response = self._raw("route_raw", request, ROUTER)
        if response is not NotImplemented:
            return response
        msg = incoming(request)
        if self.user.route is None:
            raise SeldonError("Route not defined", 400, BAD_DATA)
        data, tags, runtime_metrics = unpack(self.user.route(msg.features, msg.names, msg.meta))
        if isinstance(data, np.ndarray) and data.size == 1:
            data = data.item()
        if not isinstance(data, numbers.Integral):
            raise SeldonError(f"Routing response must be int but got {data}", 400, BAD_DATA)
        metrics = self._custom_metrics(ROUTER, runtime_metrics)
        return self._respond(msg.puid, msg.payload, msg.data_kind, np.array([[int(data)]]), None, metrics, tags)

    def aggregate(self, request: Any) -> Any:
        response = self._raw("aggregate_raw", request, AGGREGATE)
        if response is not NotImplemented:
            return response
        if isinstance(request, pb.SeldonMessageList):
            msgs = list(request.seldonMessages)
        elif isinstance(request, list):
            msgs = request
        elif isinstance(request, dict) and isinstance(request.get("seldonMessages"), list):
            msgs = request["seldonMessages"]
        else:
            raise SeldonError(f"Invalid request data type: {request}", 400, BAD_DATA)
        if not msgs:
            raise SeldonError("Invalid request data type: seldonMessages is empty, nothing to aggregate", 400, BAD_DATA)
        features_list: list = []
        names_list: list[list] = []
        tags: dict = {}
        request_path: dict = {}
        child_metrics: list = []
        children = [incoming(msg) for msg in msgs]
        for child in children:
            features_list.append(child.features)
            names_list.append(child.names)
            meta = _dict(child.meta)
            tags.update(_dict(meta.get("tags")))
            request_path.update(_dict(meta.get("requestPath")))
            child_metrics.extend(meta.get("metrics") or [])
        if self.user.aggregate is None:
            raise SeldonError("Aggregate not defined", 400, BAD_DATA)
        data, runtime_tags, runtime_metrics = unpack(self.user.aggregate(features_list, names_list))
        metrics = self._custom_metrics(AGGREGATE, runtime_metrics)
        first = children[0]
        merged = {"tags": tags, "requestPath": request_path, "metrics": child_metrics}
        return self._respond(first.puid, first.payload, first.data_kind, data, merged, metrics, runtime_tags)

    def send_feedback(self, feedback: Any) -> Any:
        if not isinstance(feedback, Message):
            if not isinstance(feedback, dict):
                raise SeldonError(f"Invalid feedback: expected an object, got {feedback!r}", 400, BAD_DATA)
            feedback = messages.to_proto(feedback, pb.Feedback)
        if feedback.reward:
            self.sink.record_feedback(feedback.reward)
        legacy = self._legacy_feedback(feedback)
        if legacy is not NotImplemented:
            return legacy
        response = self._raw("send_feedback_raw", feedback, FEEDBACK)
        if response is not NotImplemented:
            return response
        features = default_data_to_array(feedback.request.data)
        truth = default_data_to_array(feedback.truth.data)
        routing_map = feedback.response.meta.routing
        key = self.settings.feedback_key
        routing = routing_map.get(key)
        result = None
        if self.user.send_feedback is not None:
            try:
                result = self.user.send_feedback(
                    features, list(feedback.request.data.names), feedback.reward, truth, routing=routing
                )
            except Exception as exc:
                if not is_not_implemented(exc):
                    raise
        data, tags, runtime_metrics = unpack(result)
        metrics = self._custom_metrics(FEEDBACK, runtime_metrics)
        payload = feedback.request.WhichOneof("data_oneof")
        data_kind = feedback.request.data.WhichOneof("data_oneof")
        body = self._respond(
            feedback.request.meta.puid, payload, data_kind, np.array([]) if data is None else data, None, metrics, tags
        )
        return to_seldon_message(body)

    def _legacy_feedback(self, feedback: pb.Feedback) -> Any:
        """seldon-core's deprecated feedback forms, whatever the transport: `send_feedback_rest` gets the Feedback
        as a JSON string, `send_feedback_grpc` the proto; no result is an empty SeldonMessage."""
        rest, grpc = self.user.legacy.get("send_feedback_rest"), self.user.legacy.get("send_feedback_grpc")
        if rest is not None:
            result = rest(json_format.MessageToJson(feedback))
        elif grpc is not None:
            result = grpc(feedback)
        else:
            return NotImplemented
        return pb.SeldonMessage() if result is None else to_seldon_message(result)

    def health_status(self) -> Any:
        response = self._raw("health_status_raw", NO_REQUEST, HEALTH)
        if response is not NotImplemented:
            return response
        status = self.user.obj.health_status if callable(getattr(self.user.obj, "health_status", None)) else None
        result: Any = "healthy"
        if status is not None:
            try:
                result = status()
            except Exception as exc:
                if not is_not_implemented(exc):
                    raise
                result = "not implemented - assuming healthy"
        data, tags, runtime_metrics = unpack(result)
        metrics = self._custom_metrics(HEALTH, runtime_metrics)
        return self._respond(None, None, None, data, None, metrics, tags)
