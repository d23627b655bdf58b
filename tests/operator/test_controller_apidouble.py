"""The Kubernetes API double itself (tests/operator/apidouble.py), driven through the REAL kubernetes client.

The controller tests trust it to behave like an API server where it matters to them; these pin that down.
"""

from __future__ import annotations

import http.server
import json
import threading

import kubernetes
import pytest
import requests

from seldon_graph.operator.kube.api import KubeApi, KubeError
from tests.operator.apidouble import TOKEN, match_labels
from tests.support.procs import free_port

pytestmark = pytest.mark.e2e

DEPLOYMENTS = "/apis/apps/v1/namespaces/ns/deployments"


def deployment(name: str, labels: dict | None = None, **spec) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ns", "labels": labels or {}},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}},
            **spec,
        },
    }


@pytest.mark.parametrize(
    "selector, labels, matches",
    [
        ("a=1", {"a": "1"}, True),
        ("a==1", {"a": "2"}, False),
        ("a!=1", {}, True),
        ("a", {"a": ""}, True),
        ("!a", {"a": "1"}, False),
        ("a in (1, 2),b", {"a": "2", "b": "x"}, True),
        ("a notin (1,2)", {"a": "1"}, False),
    ],
)
def test_label_selectors(selector, labels, matches):
    assert match_labels(selector, labels) is matches


def test_apply_removes_fields_the_manager_stopped_applying_and_a_no_op_keeps_the_version(api, kube):
    first = kube.apply(deployment("d", labels={"keep": "1", "drop": "1"}, replicas=2))
    again = kube.apply(deployment("d", labels={"keep": "1", "drop": "1"}, replicas=2))
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    later = kube.apply(deployment("d", labels={"keep": "1"}))
    assert later["metadata"]["labels"] == {"keep": "1"} and "replicas" not in later["spec"]
    assert later["metadata"]["generation"] == 2
    assert api.requests[-1].query == {"fieldManager": "seldon-graph", "force": "true"}


def test_status_subresource_and_main_resource_are_separate(api, kube):
    kube.apply(deployment("d"))
    kube.request(
        "PATCH", DEPLOYMENTS + "/d", body={"status": {"replicas": 5}}, content_type="application/merge-patch+json"
    )
    assert "replicas" not in (api.get("deployments", "ns", "d").get("status") or {})
    kube.request(
        "PATCH",
        DEPLOYMENTS + "/d/status",
        body={"status": {"replicas": 5}, "spec": {"replicas": 9}},
        content_type="application/merge-patch+json",
    )
    live = api.get("deployments", "ns", "d")
    assert live["status"] == {"replicas": 5} and "replicas" not in live["spec"]


def test_delete_collection_by_label_and_errors(api, kube):
    for name, team in (("a", "x"), ("b", "x"), ("c", "y")):
        kube.apply(deployment(name, labels={"team": team}))
    kube.request("DELETE", DEPLOYMENTS, query=[("labelSelector", "team=x")])
    assert [d["metadata"]["name"] for d in api.objects("deployments")] == ["c"]
    with pytest.raises(KubeError) as missing:
        kube.request("GET", DEPLOYMENTS + "/a")
    assert missing.value.status == 404 and missing.value.reason == "NotFound"
    with pytest.raises(KubeError) as conflict:
        kube.request("POST", DEPLOYMENTS, body=deployment("c"))
    assert conflict.value.status == 409


def test_watch_replays_from_a_resource_version_and_needs_the_token(api, kube):
    listed = kube.request("GET", DEPLOYMENTS)
    kube.apply(deployment("w"))
    kube.delete("apps/v1", "Deployment", "ns", "w")
    url = f"{api.url}{DEPLOYMENTS}?watch=true&timeoutSeconds=1&resourceVersion={listed['metadata']['resourceVersion']}"
    lines = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).text.splitlines()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in map(json.loads, lines)] == [
        ("ADDED", "w"),
        ("DELETED", "w"),
    ]
    assert requests.get(f"{api.url}{DEPLOYMENTS}", timeout=5).status_code == 401


def test_rbac_for_granted_tokens(api, tmp_path):
    api.grant("limited", [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "patch"]}])
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(
        config_file=str(api.kubeconfig(tmp_path / "limited", token="limited")), client_configuration=configuration
    )
    limited = KubeApi(kubernetes.client.ApiClient(configuration))
    with pytest.raises(KubeError) as listing:
        limited.list("apps/v1", "Deployment", "ns")
    assert listing.value.status == 403
    with pytest.raises(KubeError) as creating:  # an apply that creates also needs "create"
        limited.apply(deployment("d"))
    assert creating.value.status == 403 and "cannot create" in creating.value.message
    api.create(deployment("d"))
    assert limited.apply(deployment("d", replicas=2))["spec"]["replicas"] == 2
    assert len(api.denied) == 2


def test_fields_the_server_defaulted_survive_a_later_apply(api, kube):
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s", "namespace": "ns"},
        "spec": {"selector": {"app": "a"}, "ports": [{"name": "http", "port": 8000}]},
    }
    cluster_ip = kube.apply(service)["spec"]["clusterIP"]
    service["spec"]["selector"] = {"app": "b"}
    assert kube.apply(service)["spec"] == {**service["spec"], "clusterIP": cluster_ip}


def test_a_response_that_is_not_json_is_a_kube_error(tmp_path):
    """A proxy in front of the API server answering with an HTML page: a KubeError, not a crash."""

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>bad gateway</html>")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        configuration = kubernetes.client.Configuration()
        configuration.host = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(KubeError) as bad:
            KubeApi(kubernetes.client.ApiClient(configuration)).get("v1", "Namespace", None, "x")
        assert bad.value.status == 502 and "bad gateway" in bad.value.message
    finally:
        server.shutdown()


def test_an_unreachable_api_server_is_a_kube_error():
    configuration = kubernetes.client.Configuration()
    configuration.host = f"http://127.0.0.1:{free_port()}"
    configuration.retries = 0
    with pytest.raises(KubeError) as down:
        KubeApi(kubernetes.client.ApiClient(configuration), timeout=2).get("v1", "Namespace", None, "x")
    assert down.value.status == 503 and "cannot reach the API server" in down.value.message
