"""The validating admission webhook served for real (aiohttp on 127.0.0.1), over HTTP and over HTTPS.

The TLS case uses a throw-away self-signed certificate made with the `openssl` command line (the `cryptography`
package is not installed); the webhook only needs PEM files, exactly as with a cert-manager Secret.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
import requests

from seldon_graph.operator.kube import webhook
from tests.operator.conftest import make_certificate, predictor, seldon_deployment
from tests.support.procs import free_port

URL_PATH = webhook.WEBHOOK_PATH


class Served:
    """The webhook app on its own event loop thread, as the operator runs it."""

    def __init__(self, tls=None):
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.tls = tls

    def __enter__(self):
        self.thread.start()
        self.runner = asyncio.run_coroutine_threadsafe(
            webhook.start(webhook.make_app(), "127.0.0.1", self.port, self.tls), self.loop
        ).result(10)
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def served():
    with Served() as server:
        yield f"http://127.0.0.1:{server.port}"


def review(obj, operation="CREATE", api_version="admission.k8s.io/v1"):
    return {
        "apiVersion": api_version,
        "kind": "AdmissionReview",
        "request": {"uid": "a1b2", "operation": operation, "name": "iris", "object": obj},
    }


def post(base, body):
    return requests.post(base + URL_PATH, json=body, timeout=5)


def test_valid_sdep_is_allowed(served):
    answer = post(served, review(seldon_deployment("iris", "ns", [predictor("main")])))
    assert answer.status_code == 200
    assert answer.json() == {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": "a1b2", "allowed": True},
    }


def test_invalid_sdep_is_denied_with_every_cause(served):
    bad = seldon_deployment("iris", "ns", [predictor("main")])
    bad["spec"]["protocol"] = "soap"
    bad["spec"]["transport"] = "smoke-signals"
    response = post(served, review(bad, operation="UPDATE")).json()["response"]
    assert response["allowed"] is False
    status = response["status"]
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["message"].startswith('SeldonDeployment.machinelearning.seldon.io "iris" is invalid: ')
    causes = [c["message"] for c in status["details"]["causes"]]
    assert len(causes) == 2
    assert causes[0].startswith("spec.protocol") and causes[1].startswith("spec.transport")


def test_unknown_field_is_denied_naming_its_path(served):
    bad = seldon_deployment("iris", "ns", [predictor("main")])
    bad["spec"]["predictors"][0]["replicaz"] = 2
    response = post(served, review(bad)).json()["response"]
    assert response["allowed"] is False
    assert "spec.predictors[0].replicaz" in response["status"]["message"]


def test_delete_is_always_allowed_and_v1beta1_is_echoed(served):
    answer = post(served, review(None, operation="DELETE", api_version="admission.k8s.io/v1beta1")).json()
    assert answer["apiVersion"] == "admission.k8s.io/v1beta1"
    assert answer["response"] == {"uid": "a1b2", "allowed": True}


@pytest.mark.parametrize(
    "body, says",
    [
        (b"{not json", "not JSON"),
        (b'{"kind": "Pod"}', "AdmissionReview"),
        (b'{"kind": "AdmissionReview", "request": {}}', "uid"),
    ],
)
def test_malformed_reviews_get_a_seldon_400(served, body, says):
    response = requests.post(served + URL_PATH, data=body, headers={"Content-Type": "application/json"}, timeout=5)
    assert response.status_code == 400
    status = response.json()["status"]
    assert status["code"] == -1 and status["status"] == 1 and status["reason"] == "MICROSERVICE_BAD_DATA"
    assert says in status["info"]


def test_health_endpoints(served):
    assert requests.get(served + "/healthz", timeout=5).status_code == 200
    assert requests.get(served + "/readyz", timeout=5).status_code == 200


def test_half_a_tls_configuration_is_refused():
    with pytest.raises(ValueError, match="both"):
        webhook.ssl_context("cert.pem", None)


def test_webhook_over_https(tmp_path):
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    make_certificate(cert, key)
    with Served(webhook.ssl_context(str(cert), str(key))) as server:
        base = f"https://127.0.0.1:{server.port}"
        answer = requests.post(
            base + URL_PATH,
            json=review(seldon_deployment("iris", "ns", [predictor("main")])),
            verify=str(cert),
            timeout=5,
        )
        assert answer.json()["response"]["allowed"] is True
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5)


def test_a_review_of_a_large_sdep_is_answered(served):
    """Bigger than aiohttp's default 1 MiB body limit, as an update of a large object can be."""
    big = seldon_deployment("iris", "ns", [predictor("main")])
    big["metadata"]["annotations"] = {"note": "x" * (3 * 1024 * 1024)}
    body = review(big, operation="UPDATE")
    body["request"]["oldObject"] = big
    assert post(served, body).json()["response"]["allowed"] is True
