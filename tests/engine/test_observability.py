"""Prometheus metrics, CloudEvents request logging to a real local HTTP sink, and header forwarding."""

import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest
import requests

from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.proto import prediction_pb2_grpc as pb_grpc
from tests.engine.conftest import echo_unit, engine_running, engines_running, node, predictor
from tests.engine.metric_samples import samples, samples_once_counted, value
from tests.support.procs import VENV_BIN

pytestmark = pytest.mark.e2e

X = {"data": {"ndarray": [[1, 2]]}}


class Sink:
    """A CloudEvents sink on 127.0.0.1: records every POST; can be made to hang until released."""

    def __init__(self):
        self.events: list[tuple[dict, bytes]] = []
        self.release = threading.Event()
        self.release.set()
        self.waiting = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                sink.waiting += 1
                sink.release.wait(30)
                sink.waiting -= 1
                sink.events.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.events

    def close(self):
        self.release.set()
        self.server.shutdown()


@pytest.fixture(scope="module")
def sink():
    sink = Sink()
    yield sink
    sink.close()


@pytest.fixture(scope="module")
def engines(units, sink, tmp_path_factory):
    u = units

    def logged(mode):
        return predictor(node("doubler", u["doubler"], logger={"url": sink.url, "mode": mode}))

    specs = {
        "all": logged("all"),
        "request": logged("request"),
        "response": logged("response"),
        "chain": predictor(
            node("doubler", u["doubler"], children=[node("tagger", u["tagger"])]),
            componentSpecs=[{"spec": {"containers": [{"name": "tagger", "image": "acme/tag:2.0"}]}}],
        ),
        "failing": predictor(node("bad", u["failing"])),
        "grpc": predictor(node("doubler", u["doubler"], transport="GRPC")),
        "failing_grpc": predictor(node("bad", u["failing"], transport="GRPC")),
        "versioned": predictor(node("doubler", u["doubler"]), annotations={"version": "v7"}, labels={"version": "x"}),
    }
    with engines_running(specs, tmp_path_factory.mktemp("observability")) as started:
        yield started


def test_metrics_server_and_unit_calls_but_not_the_units_own_metrics(engines):
    """The units' `meta.metrics` are exported by the wrapper only: Seldon's PodMonitor scrapes every `metrics`
    port, and the executor never re-exported them (executor/api/metric has only the server and client
    histograms)."""
    engine = engines["chain"]
    for _ in range(3):
        assert requests.post(f"{engine.url}/api/v1.0/predictions", json=X, timeout=30).ok
    found = samples(engine)
    assert (
        value(
            found,
            "seldon_api_executor_server_requests_seconds_count",
            service="predictions",
            method="post",
            code="200",
            predictor_name="p",
        )
        == 3
    )
    assert (
        value(
            found,
            "seldon_api_executor_client_requests_seconds_count",
            model_name="tagger",
            model_image="acme/tag",
            model_version="2.0",
            service="/predict",
            code="200",
        )
        == 3
    )
    assert value(found, "seldon_api_executor_client_requests_seconds_count", model_name="doubler") == 3
    assert not [s for s in found if s.name.startswith("tagger_")]


def test_metrics_count_failures_with_their_code(engines):
    engine = engines["failing"]
    assert requests.post(f"{engine.url}/api/v1.0/predictions", json=X, timeout=30).status_code == 418
    found = samples(engine)
    assert value(found, "seldon_api_executor_server_requests_seconds_count", code="418") == 1
    assert value(found, "seldon_api_executor_client_requests_seconds_count", model_name="bad", code="418") == 1


def test_grpc_unit_calls_are_labelled_with_the_grpc_method(engines):
    engine = engines["grpc"]
    assert requests.post(f"{engine.url}/api/v1.0/predictions", json=X, timeout=30).ok
    assert (
        value(
            samples(engine),
            "seldon_api_executor_client_requests_seconds_count",
            model_name="doubler",
            service="/seldon.protos.Model/Predict",
            method="unary",
            code="OK",
        )
        == 1
    )


def test_grpc_code_labels_are_grpc_go_names(engines):
    """The executor's gRPC interceptors label `code` with grpc-go's `codes.Code.String()` (`OK`,
    `InvalidArgument`, `Unknown`, …) on the client and the server histograms (executor/api/metric/client.go,
    executor/api/metric/server.go)."""
    engine = engines["failing_grpc"]
    with grpc.insecure_channel(engine.grpc_target) as channel:
        stub = pb_grpc.SeldonStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.Predict(pb.SeldonMessage(strData="x"), timeout=30)
        with pytest.raises(grpc.RpcError):
            stub.Predict(b"\xff\xff", timeout=30)
    found = samples_once_counted(engine, "seldon_api_executor_server_requests_seconds_count", 2)
    go_name = "".join(part.capitalize() for part in caught.value.code().name.split("_"))
    client = "seldon_api_executor_client_requests_seconds_count"
    assert value(found, client, service="/seldon.protos.Model/Predict", code=go_name) == 1
    server = "seldon_api_executor_server_requests_seconds_count"
    assert value(found, server, service="/seldon.protos.Seldon/Predict", method="unary", code=go_name) == 1
    assert value(found, server, service="/seldon.protos.Seldon/Predict", code="InvalidArgument") == 1
    assert all(not s.labels.get("code", "A")[0].isdigit() for s in found if s.labels.get("method") == "unary")


def test_predictor_version_is_the_predictors_version_annotation(engines):
    """`predictor_version` is `r.predictor.Annotations["version"]` (executor/api/rest/server.go wrapMetrics)."""
    engine = engines["versioned"]
    assert requests.post(f"{engine.url}/api/v1.0/predictions", json=X, timeout=30).ok
    found = samples(engine)
    assert value(found, "seldon_api_executor_server_requests_seconds_count", predictor_version="v7") == 1
    assert value(found, "seldon_api_executor_client_requests_seconds_count", predictor_version="v7") == 1


def test_status_and_metadata_requests_are_counted(engines):
    """The executor wraps its status and metadata routes in the server histogram as service "status" and
    "metadata" (executor/api/rest/server.go Initialise, executor/api/metric/constants.go); /ready and /live are
    not counted."""
    engine = engines["versioned"]
    for path in ("/api/v1.0/status", "/api/v1.0/health/status", "/api/v1.0/status/doubler", "/ready"):
        assert requests.get(f"{engine.url}{path}", timeout=30).status_code == 200
    for path in ("/api/v1.0/metadata", "/api/v1.0/metadata/doubler", "/api/v1.0/metadata/nobody"):
        requests.get(f"{engine.url}{path}", timeout=30)
    found = samples(engine)
    server = "seldon_api_executor_server_requests_seconds_count"
    assert value(found, server, service="status", method="get", code="200") == 3
    assert value(found, server, service="metadata", method="get", code="200") == 2
    assert value(found, server, service="metadata", method="get", code="404") == 1


def test_prometheus_path_and_deployment_label_flags(units, tmp_path):
    spec = predictor(node("doubler", units["doubler"]))
    with engine_running(spec, tmp_path, "--prometheus_path", "/prometheus", "--sdep", "mydep") as engine:
        requests.post(f"{engine.url}/api/v1.0/predictions", json=X, timeout=30)
        found = samples(engine, "/prometheus")
    assert value(found, "seldon_api_executor_server_requests_seconds_count", deployment_name="mydep") == 1


@pytest.mark.parametrize(
    "mode, types",
    [
        ("all", ["io.seldon.serving.inference.request", "io.seldon.serving.inference.response"]),
        ("request", ["io.seldon.serving.inference.request"]),
        ("response", ["io.seldon.serving.inference.response"]),
    ],
)
def test_request_logger_sends_cloudevents(engines, sink, mode, types):
    """Each event has its own `Ce-Id` (a new UUID) and `Ce-Requestid` is the puid, as the Seldon executor builds
    them (executor/predictor/predictor_process.go: `Id: guuid.New().String()`, `RequestId: puid`)."""
    sink.events.clear()
    response = requests.post(f"{engines[mode].url}/api/v1.0/predictions", json=X, timeout=30)
    puid = response.json()["meta"]["puid"]
    events = sink.wait_for(len(types))
    assert sorted(headers["ce-type"] for headers, _ in events) == sorted(types)
    event_ids = [headers["ce-id"] for headers, _ in events]
    assert len(set(event_ids)) == len(events) and puid not in event_ids
    assert all(uuid.UUID(event_id).version == 4 for event_id in event_ids)
    for headers, body in events:
        assert headers["ce-requestid"] == puid
        assert headers["ce-modelid"] == "doubler" and headers["ce-specversion"] == "1.0"
        assert headers["ce-source"] and headers["content-type"] == "application/json"
        assert b'"ndarray"' in body


def test_skip_logging_header(engines, sink):
    sink.events.clear()
    requests.post(
        f"{engines['all'].url}/api/v1.0/predictions", json=X, timeout=30, headers={"Seldon-Skip-Logging": "true"}
    )
    requests.post(f"{engines['request'].url}/api/v1.0/predictions", json=X, timeout=30)
    events = sink.wait_for(1)
    assert len(events) == 1


def test_slow_sink_does_not_hold_predictions(engines, sink):
    sink.events.clear()
    sink.release.clear()
    try:
        assert requests.post(f"{engines['all'].url}/api/v1.0/predictions", json=X, timeout=5).ok
        deadline = time.monotonic() + 10
        while not sink.waiting and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sink.waiting > 0
        for _ in range(9):  # while the sink holds every logger connection
            assert requests.post(f"{engines['all'].url}/api/v1.0/predictions", json=X, timeout=5).ok
        assert not sink.events
    finally:
        sink.release.set()
    assert len(sink.wait_for(20)) == 20


def test_headers_and_puid_are_forwarded_to_units(tmp_path):
    with echo_unit(tmp_path) as port:
        spec = predictor(node("echo", None, endpoint={"service_host": "127.0.0.1", "httpPort": port}))
        with engine_running(spec, tmp_path) as engine:
            response = requests.post(
                f"{engine.url}/api/v1.0/predictions",
                json=X,
                timeout=30,
                headers={"X-Custom": "abc", "Authorization": "Bearer t0k"},
            )
    tags = response.json()["meta"]["tags"]
    puid = response.json()["meta"]["puid"]
    assert tags["seen_custom_header"] == "abc" and tags["seen_authorization"] == "Bearer t0k"
    assert tags["seen_puid_header"] == puid and tags["seen_meta_puid"] == puid


def test_feedback_is_logged_as_a_feedback_cloudevent(engines, sink):
    sink.events.clear()
    feedback = {"request": X, "reward": 1.0}
    assert requests.post(f"{engines['response'].url}/api/v1.0/feedback", json=feedback, timeout=30).ok
    events = sink.wait_for(1)
    assert [headers["ce-type"] for headers, _ in events] == ["io.seldon.serving.feedback"]
    assert b'"reward":1.0' in events[0][1].replace(b" ", b"")


def test_logger_without_url_uses_the_default_endpoint(units, sink, tmp_path):
    spec = predictor(node("doubler", units["doubler"], logger={"mode": "request"}))
    sink.events.clear()
    with engine_running(spec, tmp_path, env={"REQUEST_LOGGER_DEFAULT_ENDPOINT": sink.url}) as engine:
        assert requests.post(f"{engine.url}/api/v1.0/predictions", json=X, timeout=30).ok
        events = sink.wait_for(1)
    assert [headers["ce-type"] for headers, _ in events] == ["io.seldon.serving.inference.request"]


def test_log_write_timeout_bounds_each_send_to_a_hung_sink(units, sink, tmp_path):
    """With one logger worker and a sink that never answers, the next event is sent once the first send gives up
    after --log_write_timeout_ms (200 ms here; the default, 2000 ms, would hold it for 2 s)."""
    spec = predictor(node("doubler", units["doubler"], logger={"url": sink.url, "mode": "request"}))
    sink.events.clear()
    sink.release.clear()
    try:
        with engine_running(spec, tmp_path, "--logger_workers", "1", "--log_write_timeout_ms", "200") as engine:
            started = time.monotonic()
            for _ in range(2):
                assert requests.post(f"{engine.url}/api/v1.0/predictions", json=X, timeout=5).ok
            while sink.waiting < 2 and time.monotonic() - started < 10:
                time.sleep(0.01)
            assert sink.waiting == 2 and time.monotonic() - started < 1.5
    finally:
        sink.release.set()


@pytest.mark.parametrize("value", ["abc", "0", "-5"])
def test_invalid_log_write_timeout_is_a_usage_error(value, tmp_path):
    spec = tmp_path / "p.json"
    spec.write_text('{"name": "p", "graph": {"name": "m", "type": "MODEL", "implementation": "SIMPLE_MODEL"}}')
    done = subprocess.run(
        [str(VENV_BIN / "seldon-engine"), "--file", str(spec), "--log_write_timeout_ms", value],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "--log_write_timeout_ms" in done.stderr
