"""Tracing and per-node timing end to end: an engine and three wrapper units (transformer → router → model) send
their spans to an OTLP receiver started here; the parent links must join the processes into one trace."""

from __future__ import annotations

import contextlib

import grpc
import pytest
import requests

from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.proto import prediction_pb2_grpc as pbg
from tests.engine.conftest import VENV_BIN, engine_running, node, predictor, units_running
from tests.support.otlp import collector_running

pytestmark = pytest.mark.e2e

CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
CLIENT_SPAN = "b7ad6b7169203331"
PATH_NODES = ["addone", "router", "doubler"]  # the request [[-1, 2]] becomes [[0, 3]], routed to child 0


def graph(units: dict, transport: str) -> dict:
    model = node("doubler", units["doubler"], transport=transport)
    other = node("tagger", units["tagger"], transport=transport)
    router = node("router", units["router"], "ROUTER", [model, other], transport=transport)
    return predictor(node("addone", units["addone"], "TRANSFORMER", [router], transport=transport))


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """A collector, traced units (switched on the Seldon v1 way: TRACING=1 and JAEGER_*) and their engines
    (switched on by OTEL_EXPORTER_OTLP_ENDPOINT), one engine per unit transport."""
    workdir = tmp_path_factory.mktemp("traced")
    with collector_running() as collector:
        unit_env = {
            "TRACING": "1",
            "JAEGER_AGENT_HOST": "127.0.0.1",
            "JAEGER_AGENT_PORT": str(collector.port),
            "JAEGER_SAMPLER_TYPE": "const",
            "JAEGER_SAMPLER_PARAM": "1",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        }
        engine_env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        }
        microservice = VENV_BIN / "seldon-core-microservice"
        names = ("addone", "router", "doubler", "tagger")
        with contextlib.ExitStack() as stack:
            units = stack.enter_context(units_running(microservice, workdir, names, unit_env))
            engines = {
                transport: stack.enter_context(engine_running(graph(units, transport), workdir, env=engine_env))
                for transport in ("REST", "GRPC")
            }
            yield collector, engines


def _predict(engine, puid: str, **headers: str) -> requests.Response:
    response = requests.post(
        f"{engine.url}/api/v1.0/predictions",
        json={"data": {"ndarray": [[-1.0, 2.0]]}, "meta": {"puid": puid}},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("transport", ["REST", "GRPC"])
def test_spans_of_one_request_form_one_trace_across_processes(traced, transport):
    collector, engines = traced
    puid = f"trace-{transport}"
    _predict(engines[transport], puid, traceparent=f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01")

    request_span = collector.wait_for(1, seldon_puid=puid)[0]
    assert request_span.trace_id == CLIENT_TRACE
    assert request_span.parent_id == CLIENT_SPAN  # a child of the client's span
    assert request_span.service == "executor"
    assert request_span.attributes["seldon.method"] == "predictions"

    for name in PATH_NODES:
        calls = [
            s
            for s in collector.wait_for(1, seldon_node=name, seldon_transport=transport)
            if s.parent_id == request_span.span_id
        ]
        assert len(calls) == 1, f"engine span of {name}: {calls}"
        call = calls[0]
        assert call.service == "executor"
        assert call.attributes["seldon.status"] == "200"
        # the engine's call span and the unit's own span of this node over this transport
        spans = collector.wait_for(2, seldon_node=name, seldon_transport=transport)
        units = [s for s in spans if s.parent_id == call.span_id]
        assert len(units) == 1, f"no unit span of {name} under the engine's call span {call}"
        unit = units[0]
        assert unit.trace_id == CLIENT_TRACE
        assert unit.service == name  # the wrapper's service name is its PREDICTIVE_UNIT_ID
        assert unit.attributes["seldon.transport"] == transport
        assert unit.attributes["seldon.status"] in ("200", "OK")
    assert not [
        s for s in collector.spans if s.trace_id == CLIENT_TRACE and s.attributes.get("seldon.node") == "tagger"
    ]


def test_b3_headers_are_accepted(traced):
    collector, engines = traced
    trace_id, span_id = "463ac35c9f6413ad48485a3953bb6124", "a2fb4a1d1a96d312"
    _predict(engines["REST"], "trace-b3", **{"X-B3-TraceId": trace_id, "X-B3-SpanId": span_id, "X-B3-Sampled": "1"})
    request_span = collector.wait_for(1, seldon_puid="trace-b3")[0]
    assert (request_span.trace_id, request_span.parent_id) == (trace_id, span_id)


def test_server_timing_names_the_nodes_on_the_path_and_only_those(traced):
    _, engines = traced
    response = _predict(engines["REST"], "timing", **{"Seldon-Timing": "1"})
    entries = [entry.strip().split(";") for entry in response.headers["Server-Timing"].split(",")]
    assert [name for name, _ in entries] == [*PATH_NODES, "engine"]
    assert all(duration.startswith("dur=") and float(duration[4:]) >= 0 for _, duration in entries)
    assert "metrics" not in response.json()["meta"]  # the breakdown goes in meta only when asked

    plain = _predict(engines["REST"], "no-timing")
    assert "Server-Timing" not in plain.headers

    in_meta = _predict(engines["REST"], "timing-meta", **{"Seldon-Timing": "meta"})
    timers = in_meta.json()["meta"]["metrics"]
    assert [m["tags"]["node"] for m in timers] == PATH_NODES
    assert {m["type"] for m in timers} == {"TIMER"}


def test_server_timing_over_grpc_is_trailing_metadata(traced):
    _, engines = traced
    with grpc.insecure_channel(engines["REST"].grpc_target) as channel:
        message = pb.SeldonMessage()
        message.data.ndarray.values.add().list_value.values.add().number_value = -1.0
        _, call = pbg.SeldonStub(channel).Predict.with_call(message, metadata=(("seldon-timing", "1"),), timeout=30)
    trailing = dict(call.trailing_metadata())
    assert [entry.split(";")[0].strip() for entry in trailing["server-timing"].split(",")] == [*PATH_NODES, "engine"]
