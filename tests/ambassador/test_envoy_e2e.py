"""Rendered Ambassador Mappings served by a real `envoy` in front of real HTTP and gRPC backends on 127.0.0.1:
prefix rewrite, the 75/25 canary, shadow mirroring, header routing, timeouts, retries and gRPC routing."""

import time
from collections import Counter

import grpc
import pytest
import requests

from seldon_graph import ambassador
from tests.ambassador import examples
from tests.ambassador.harness import (
    PAYLOAD,
    PREDICT,
    echo_backends,
    envoy_ingress,
    grpc_predict,
    rest_split,
    wait_count,
)

pytestmark = pytest.mark.e2e

V2 = ambassador.AmbassadorSettings()


def serve(tmp_path, backends, sdeps, settings=V2):
    objects = [obj for sdep in sdeps for obj in ambassador.render(sdep, settings)]
    return envoy_ingress(tmp_path, ambassador.envoy_routes(objects, backends.resolve))


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    names = [
        "example-main",
        "example-canary",
        "example-default",
        "example-shadow",
        "example-single",
        "example-header-single",
        "example-regex-single",
        "slow-single",
        "flaky-single",
        "noretry-single",
    ]
    with echo_backends(tmp_path_factory.mktemp("backends"), names) as started:
        yield started


def test_canary_75_25_with_prefix_rewrite(tmp_path, backends):
    with serve(tmp_path, backends, [examples.canary()]) as port:
        seen = rest_split(port, "/seldon/seldon/example/", 400)
        assert set(seen) == {"example-main", "example-canary"}
        assert 60 <= seen["example-canary"] <= 140, seen  # 25% of 400 = 100, sd 8.7
        grpc_seen = Counter(grpc_predict(port, [("seldon", "example"), ("namespace", "seldon")]) for _ in range(200))
        assert 22 <= grpc_seen["example-canary"] <= 78, grpc_seen  # 25% of 200 = 50, sd 6.1
        assert grpc_seen["example-main"] + grpc_seen["example-canary"] == 200


def test_shadow_gets_a_copy_and_clients_see_only_the_main_answer(tmp_path, backends):
    with serve(tmp_path, backends, [examples.shadow()]) as port, requests.Session() as session:
        before = backends.count("example-shadow")
        for _ in range(40):
            response = session.post(f"http://127.0.0.1:{port}/seldon/seldon/example/{PREDICT}", json=PAYLOAD)
            assert response.status_code == 200 and response.json()["backend"] == "example-default"
        for _ in range(10):
            assert grpc_predict(port, [("seldon", "example")]) == "example-default"
        assert wait_count(backends, "example-shadow", before + 50) == before + 50


def test_header_routing_exact_and_regex(tmp_path, backends):
    sdeps = [
        examples.single(),
        examples.header_routed(),
        examples.seldon_deployment(
            "example-regex",
            [{"name": "single"}],
            spec_annotations={
                "seldon.io/ambassador-service-name": "example",
                "seldon.io/ambassador-regex-header": "location:par.*",
            },
        ),
    ]
    with serve(tmp_path, backends, sdeps) as port:
        url = f"http://127.0.0.1:{port}/seldon/seldon/example/{PREDICT}"
        assert requests.post(url, json=PAYLOAD).json()["backend"] == "example-single"
        assert (
            requests.post(url, json=PAYLOAD, headers={"location": "london"}).json()["backend"]
            == "example-header-single"
        )
        assert (
            requests.post(url, json=PAYLOAD, headers={"location": "paris-east"}).json()["backend"]
            == "example-regex-single"
        )
        assert requests.post(url, json=PAYLOAD, headers={"location": "madrid"}).json()["backend"] == "example-single"
        assert grpc_predict(port, [("seldon", "example")]) == "example-single"
        assert grpc_predict(port, [("seldon", "example"), ("location", "london")]) == "example-header-single"


def test_timeout_is_a_504_with_a_seldon_status_and_retries_recover(tmp_path, backends):
    sdeps = [
        examples.single("slow", spec_annotations={"seldon.io/rest-timeout": "500"}),
        examples.single("flaky", spec_annotations={"seldon.io/ambassador-retries": "2"}),
        examples.single("noretry"),
    ]
    with serve(tmp_path, backends, sdeps) as port:
        started = time.monotonic()
        response = requests.post(f"http://127.0.0.1:{port}/seldon/seldon/slow/sleep/3", json=PAYLOAD)
        assert response.status_code == 504
        assert time.monotonic() - started < 2.5
        status = response.json()["status"]
        assert status["code"] == -1 and status["status"] == 1 and status["reason"] == "INGRESS_UPSTREAM_TIMEOUT"
        assert "timeout" in status["info"]
        assert requests.post(f"http://127.0.0.1:{port}/seldon/seldon/flaky/flaky/1", json=PAYLOAD).status_code == 200
        assert requests.post(f"http://127.0.0.1:{port}/seldon/seldon/noretry/flaky/2", json=PAYLOAD).status_code == 503


def test_unknown_path_is_a_404_with_a_seldon_status(tmp_path, backends):
    with serve(tmp_path, backends, [examples.single()]) as port:
        response = requests.post(f"http://127.0.0.1:{port}/seldon/seldon/nobody/{PREDICT}", json=PAYLOAD)
        assert response.status_code == 404
        assert response.json() == {
            "status": {
                "code": -1,
                "info": "No SeldonDeployment route matches this request path and headers",
                "reason": "NOT_FOUND",
                "status": 1,
            }
        }


def test_legacy_v1_annotations_on_services(tmp_path, backends):
    settings = ambassador.AmbassadorSettings(version="v1")
    annotated = ambassador.service_annotations(examples.canary(), settings)
    services = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "annotations": values}}
        for name, values in annotated.items()
    ]
    with envoy_ingress(tmp_path, ambassador.envoy_routes(services, backends.resolve)) as port:
        seen = rest_split(port, "/seldon/seldon/example/", 100)
        assert set(seen) == {"example-main", "example-canary"}
        assert grpc_predict(port, [("seldon", "example"), ("namespace", "seldon")]) in seen
        with pytest.raises(grpc.RpcError) as failure:
            grpc_predict(port, [("seldon", "example")])  # v1 gRPC mappings also need the namespace header
        assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED
