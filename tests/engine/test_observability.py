"""Prometheus metrics, CloudEvents request logging to a real local HTTP sink, and header forwarding."""

import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.engine.conftest import echo_unit, engine_running, engines_running, node, predictor
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
    }
    with engines_running(specs, tmp_path_factory.mktemp("observability")) as started:
        yield started


def samples(engine, path="/metrics") -> list:
    text = requests.get(f"{engine.url}{path}", timeout=30).text
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(found: list, name: str, **labels) -> float:
    matching = [s.value for s in found if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert matching, f"no sample {name} {labels}"
    return sum(matching)


def test_metrics_server_unit_calls_and_unit_custom_metrics(engines):
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
    assert value(found, "tagger_calls_total", model_name="tagger") == 3
    assert value(found, "tagger_gauge", model_name="tagger") == 5


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
            code="200",
        )
        == 1
    )


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
