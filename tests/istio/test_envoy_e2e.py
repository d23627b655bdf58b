"""Rendered Istio VirtualService + DestinationRules served by a real `envoy` in front of real HTTP and gRPC
backends on 127.0.0.1: prefix rewrite, the 90/10 canary, mirroring, gRPC routing by headers, timeouts, retries."""

import copy
import time
from collections import Counter

import grpc
import pytest
import requests

from seldon_graph import istio
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

SETTINGS = istio.IstioSettings()


def predictor_services(objects):
    """The predictor Services (ports named http/grpc, as the operator renders them) behind the DestinationRules."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": rule["metadata"]["name"], "namespace": rule["metadata"]["namespace"]},
            "spec": {
                "ports": [
                    {"name": "http", "port": 8000, "targetPort": 8000},
                    {"name": "grpc", "port": 5001, "targetPort": 5001},
                ]
            },
        }
        for rule in objects
        if rule["kind"] == "DestinationRule"
    ]


def table(objects, backends, with_services=True):
    return istio.envoy_routes(
        [o for o in objects if o["kind"] == "VirtualService"],
        [o for o in objects if o["kind"] == "DestinationRule"],
        backends.resolve,
        predictor_services(objects) if with_services else (),
    )


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    names = [
        "iris-main",
        "iris-canary",
        "example-default",
        "example-shadow",
        "slow-single",
        "flaky-single",
        "noretry-single",
    ]
    with echo_backends(tmp_path_factory.mktemp("backends"), names) as started:
        yield started


def test_canary_90_10_rest_and_grpc(tmp_path, backends):
    """Without the Services, clusters follow the downstream protocol: REST and gRPC still route."""
    objects = istio.render(examples.canary("iris", main=90, canary_traffic=10), SETTINGS)
    with envoy_ingress(tmp_path, table(objects, backends, with_services=False)) as port:
        seen = rest_split(port, "/seldon/seldon/iris/", 400)
        assert set(seen) == {"iris-main", "iris-canary"}
        assert 15 <= seen["iris-canary"] <= 65, seen  # 10% of 400 = 40, sd 6
        grpc_seen = Counter(grpc_predict(port, [("seldon", "iris"), ("namespace", "seldon")]) for _ in range(200))
        assert 5 <= grpc_seen["iris-canary"] <= 40, grpc_seen  # 10% of 200 = 20, sd 4.2
        assert sum(grpc_seen.values()) == 200
        with pytest.raises(grpc.RpcError) as failure:
            grpc_predict(port, [("seldon", "iris")])  # Istio's gRPC route needs both headers
        assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_mirror_gets_every_request(tmp_path, backends):
    objects = istio.render(examples.shadow(), SETTINGS)
    with envoy_ingress(tmp_path, table(objects, backends)) as port, requests.Session() as session:
        before = backends.count("example-shadow")
        for _ in range(30):
            response = session.post(f"http://127.0.0.1:{port}/seldon/seldon/example/{PREDICT}", json=PAYLOAD)
            assert response.json()["backend"] == "example-default"
        for _ in range(10):
            assert grpc_predict(port, [("seldon", "example"), ("namespace", "seldon")]) == "example-default"
        assert wait_count(backends, "example-shadow", before + 40) == before + 40


def test_timeout_and_retries(tmp_path, backends):
    slow = istio.render(examples.single("slow"), SETTINGS)
    slow[0] = copy.deepcopy(slow[0])
    slow[0]["spec"]["http"][0]["timeout"] = "500ms"
    flaky = istio.render(examples.single("flaky", spec_annotations={"seldon.io/istio-retries": "2"}), SETTINGS)
    noretry = istio.render(examples.single("noretry"), SETTINGS)
    with envoy_ingress(tmp_path, table(slow + flaky + noretry, backends)) as port:
        started = time.monotonic()
        response = requests.post(f"http://127.0.0.1:{port}/seldon/seldon/slow/sleep/3", json=PAYLOAD)
        assert response.status_code == 504 and time.monotonic() - started < 2.5
        assert response.json()["status"]["reason"] == "INGRESS_UPSTREAM_TIMEOUT"
        assert requests.post(f"http://127.0.0.1:{port}/seldon/seldon/flaky/flaky/10", json=PAYLOAD).status_code == 200
        assert requests.post(f"http://127.0.0.1:{port}/seldon/seldon/noretry/flaky/11", json=PAYLOAD).status_code == 503
