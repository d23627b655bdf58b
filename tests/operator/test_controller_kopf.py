"""End to end: the REAL `seldon-operator` process (kopf + the kubernetes client) against the Kubernetes API double.

No Kubernetes API server can run on these machines: `ApiDouble` is a real HTTP server on 127.0.0.1 speaking the
Kubernetes REST API that kopf and the client need (discovery, LIST + WATCH with resourceVersion, server-side
apply, merge patch, DELETE, the status subresource). The operator runs as a subprocess with a kubeconfig that
points at it; the tests act as `kubectl` (through the real kubernetes client) and as the cluster's Deployment
controller (`roll_out` reports Deployments available), and watch what the operator does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from seldon_graph.operator.kube.api import KubeApi, KubeError
from seldon_graph.operator.kube.webhook import WEBHOOK_PATH
from tests.operator.apidouble import ApiDouble
from tests.operator.conftest import client_for, make_certificate, predictor, roll_out, seldon_deployment, wait_for
from tests.support import schemas
from tests.support.procs import VENV_BIN, free_port, running, stop, wait_http, wait_port

pytestmark = pytest.mark.e2e

SDEPS = "/apis/machinelearning.seldon.io/v1/namespaces/{ns}/seldondeployments"


@dataclass
class Cluster:
    api: ApiDouble
    kube: KubeApi
    kubeconfig: Path
    webhook_url: str
    directory: Path

    def apply(self, sdep: dict) -> None:
        """`kubectl create` of a SeldonDeployment (its namespace is created first if missing)."""
        namespace = sdep["metadata"]["namespace"]
        if self.api.get("namespaces", None, namespace) is None:
            self.kube.request("POST", "/api/v1/namespaces", body={"metadata": {"name": namespace}})
        self.kube.request("POST", SDEPS.format(ns=namespace), body=sdep)

    def patch(self, namespace: str, name: str, spec: dict) -> None:
        self.kube.request(
            "PATCH",
            SDEPS.format(ns=namespace) + f"/{name}",
            body={"spec": spec},
            content_type="application/merge-patch+json",
        )

    def status(self, namespace: str, name: str) -> dict:
        return (self.api.get("seldondeployments", namespace, name) or {}).get("status") or {}

    def wait_state(self, namespace: str, name: str, state: str, timeout: float = 20.0) -> dict:
        return wait_for(
            lambda: self.status(namespace, name).get("state") == state and self.status(namespace, name),
            timeout,
            f"{namespace}/{name} to be {state} (now {self.status(namespace, name)})",
        )

    def deployments(self, namespace: str) -> list[str]:
        return [d["metadata"]["name"] for d in self.api.objects("deployments", namespace)]


def operator_args(kubeconfig: Path, webhook_port: int, *extra: str) -> list[str]:
    return [
        str(VENV_BIN / "seldon-operator"),
        "--kubeconfig",
        str(kubeconfig),
        "--webhook-host",
        "127.0.0.1",
        "--webhook-port",
        str(webhook_port),
        *extra,
    ]


OPERATOR_TOKEN = "seldon-graph-operator-token"


def operator_role() -> list[dict]:
    """The rules of the ClusterRole the manifests ship (operator/config/rbac/clusterrole.yaml)."""
    return yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "operator" / "config" / "rbac" / "clusterrole.yaml").read_text()
    )["rules"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The API double and a cluster-wide operator that holds only the shipped ClusterRole's permissions."""
    directory = tmp_path_factory.mktemp("kopf")
    with ApiDouble() as double:
        double.grant(OPERATOR_TOKEN, operator_role())
        kubeconfig = double.kubeconfig(directory / "kubeconfig", token=OPERATOR_TOKEN)
        port = free_port()
        with running(
            operator_args(kubeconfig, port), directory / "operator.log", ready_url=f"http://127.0.0.1:{port}/healthz"
        ):
            double.admission_url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
            yield Cluster(double, client_for(double, directory), kubeconfig, f"http://127.0.0.1:{port}", directory)
            assert double.denied == [], "the shipped ClusterRole lacks permissions the operator used"


def test_create_renders_objects_and_status_follows_the_rollout(cluster):
    cluster.apply(seldon_deployment("iris", "create", [predictor("main", replicas=2)]))
    wait_for(lambda: cluster.deployments("create") == ["iris-main-0-classifier"], what="the model Deployment")
    status = cluster.wait_state("create", "iris", "Creating")
    assert status["address"]["url"] == "http://iris-main.create.svc.cluster.local:8000/api/v1.0/predictions"
    services = [s["metadata"]["name"] for s in cluster.api.objects("services", "create")]
    assert services == ["iris-main", "iris-main-classifier"]
    for obj in cluster.api.objects("deployments", "create") + cluster.api.objects("services", "create"):
        schemas.validate({k: v for k, v in obj.items() if k != "status"})

    roll_out(cluster.api, "create")
    status = cluster.wait_state("create", "iris", "Available")
    assert status["deploymentStatus"] == {"iris-main-0-classifier": {"replicas": 2, "availableReplicas": 2}}
    assert all(c["status"] == "True" for c in status["conditions"])
    schemas.validate(cluster.api.get("seldondeployments", "create", "iris"))
    events = [e["reason"] for e in cluster.api.objects("events", "create")]
    assert "CreateDeployment" in events and "Updated" in events


def test_settled_sdep_causes_no_further_writes(cluster):
    cluster.apply(seldon_deployment("iris", "settle", [predictor("main")]))
    wait_for(lambda: cluster.deployments("settle"), what="the model Deployment")
    roll_out(cluster.api, "settle")
    cluster.wait_state("settle", "iris", "Available")
    time.sleep(0.5)
    mark = len(cluster.api.requests)
    time.sleep(1.5)
    assert cluster.api.writes(mark) == []


def test_update_and_removed_predictor(cluster):
    cluster.apply(seldon_deployment("iris", "update", [predictor("main", traffic=75), predictor("canary", traffic=25)]))
    wait_for(lambda: len(cluster.deployments("update")) == 2, what="two Deployments")
    roll_out(cluster.api, "update")
    cluster.wait_state("update", "iris", "Available")

    cluster.patch(
        "update",
        "iris",
        {
            "predictors": [
                predictor("main", image="seldonio/mock_classifier:2.0", replicas=3, traffic=75),
                predictor("canary", traffic=25),
            ]
        },
    )

    def main_updated():
        dep = cluster.api.get("deployments", "update", "iris-main-0-classifier")
        images = [c["image"] for c in dep["spec"]["template"]["spec"]["containers"]]
        return dep["spec"].get("replicas") == 3 and "seldonio/mock_classifier:2.0" in images

    wait_for(main_updated, what="the new image and replicas")
    roll_out(cluster.api, "update")
    cluster.wait_state("update", "iris", "Available")

    cluster.patch(
        "update", "iris", {"predictors": [predictor("main", image="seldonio/mock_classifier:2.0", replicas=3)]}
    )
    wait_for(lambda: cluster.deployments("update") == ["iris-main-0-classifier"], what="the canary to be pruned")
    wait_for(
        lambda: (
            [s["metadata"]["name"] for s in cluster.api.objects("services", "update")]
            == ["iris-main", "iris-main-classifier"]
        ),
        what="the canary's Services to be pruned",
    )
    wait_for(
        lambda: list(cluster.status("update", "iris").get("deploymentStatus", {})) == ["iris-main-0-classifier"],
        what="the status to forget the canary",
    )
    assert cluster.status("update", "iris")["state"] == "Available"


def test_invalid_sdep_is_refused_by_the_operators_webhook(cluster):
    """The double calls the running operator's webhook on create and update, as the API server would."""
    cluster.apply(seldon_deployment("iris", "refused", [predictor("main")]))
    with pytest.raises(KubeError) as refused:
        cluster.apply(seldon_deployment("bad", "refused", [predictor("main"), predictor("main")]))
    assert refused.value.status == 422
    assert 'admission webhook "v1.vseldondeployment.kb.io" denied the request' in refused.value.message
    assert "spec.predictors[1]" in refused.value.message
    with pytest.raises(KubeError) as refused_update:
        cluster.patch("refused", "iris", {"protocol": "soap"})
    assert "spec.protocol" in refused_update.value.message
    assert cluster.api.get("seldondeployments", "refused", "bad") is None
    assert "protocol" not in cluster.api.get("seldondeployments", "refused", "iris")["spec"]


def test_invalid_sdep_that_got_in_is_failed(cluster):
    """Created behind the webhook's back (as when the webhook is not installed)."""
    bad = seldon_deployment("iris", "invalid", [predictor("main"), predictor("main")])
    cluster.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "invalid"}})
    cluster.api.create(bad)
    status = cluster.wait_state("invalid", "iris", "Failed")
    assert "spec.predictors[1]" in status["description"]
    assert cluster.deployments("invalid") == []
    assert "InvalidSpec" in [e["reason"] for e in cluster.api.objects("events", "invalid")]


def test_deleted_or_edited_objects_are_restored(cluster):
    scaled = predictor("main")
    scaled["componentSpecs"][0]["hpaSpec"] = {
        "minReplicas": 1,
        "maxReplicas": 3,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "targetAverageUtilization": 70}}],
    }
    cluster.apply(seldon_deployment("iris", "heal", [scaled]))
    wait_for(lambda: cluster.deployments("heal"), what="the model Deployment")
    cluster.kube.delete("apps/v1", "Deployment", "heal", "iris-main-0-classifier")
    wait_for(lambda: cluster.deployments("heal") == ["iris-main-0-classifier"], what="the Deployment to come back")
    cluster.kube.delete("autoscaling/v2", "HorizontalPodAutoscaler", "heal", "iris-main-0-classifier")
    wait_for(
        lambda: cluster.api.get("horizontalpodautoscalers", "heal", "iris-main-0-classifier"),
        what="the HPA to come back",
    )
    path = "/api/v1/namespaces/heal/services/iris-main"
    cluster.kube.request(
        "PATCH",
        path,
        body={"spec": {"selector": {"seldon-app": "elsewhere"}}},
        content_type="application/merge-patch+json",
    )
    wait_for(
        lambda: cluster.api.get("services", "heal", "iris-main")["spec"]["selector"]["seldon-app"] == "iris-main",
        what="the Service selector to be restored",
    )


def test_controller_id_selects_which_operator_serves(cluster):
    """The module's operator (no id) and a second one with `--controller-id team-a` share the cluster."""
    cluster.apply(seldon_deployment("plain", "shards", [predictor("main")]))
    cluster.apply(
        seldon_deployment("tagged", "shards", [predictor("main")], labels={"seldon.io/controller-id": "team-a"})
    )
    wait_for(lambda: "plain-main-0-classifier" in cluster.deployments("shards"), what="the unlabelled SDep")
    time.sleep(0.5)
    assert "tagged-main-0-classifier" not in cluster.deployments("shards")
    assert cluster.status("shards", "tagged") == {}

    port = free_port()
    with running(
        operator_args(cluster.kubeconfig, port, "--controller-id", "team-a"),
        cluster.directory / "team-a.log",
        ready_url=f"http://127.0.0.1:{port}/healthz",
    ) as team_a:
        wait_for(lambda: "tagged-main-0-classifier" in cluster.deployments("shards"), what="the labelled SDep")
        cluster.wait_state("shards", "tagged", "Creating")
        assert stop(team_a) == 0  # SIGTERM: a clean exit


def test_webhook_of_the_running_operator(cluster):
    valid = seldon_deployment("iris", "hooks", [predictor("main")])
    review = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {"uid": "u-1", "operation": "CREATE", "object": valid},
    }
    url = cluster.webhook_url + "/validate-machinelearning-seldon-io-v1-seldondeployment"
    answer = requests.post(url, json=review, timeout=5).json()
    assert answer["response"] == {"uid": "u-1", "allowed": True}

    valid["spec"]["predictors"][0]["traffic"] = 50
    valid["spec"]["predictors"].append(predictor("main", traffic=50))
    answer = requests.post(url, json=review, timeout=5).json()
    assert answer["response"]["allowed"] is False
    assert answer["response"]["status"]["code"] == 422
    assert "spec.predictors[1]" in answer["response"]["status"]["message"]


def test_namespaced_operator_serves_the_namespace_the_cluster_wide_one_leaves(cluster):
    """A namespace labelled `seldon.io/controller-id` belongs to its own (namespaced) operator; this one serves its
    webhook over HTTPS with a certificate made by the openssl command line."""
    cluster.kube.request(
        "POST",
        "/api/v1/namespaces",
        body={"metadata": {"name": "team-b", "labels": {"seldon.io/controller-id": "team-b"}}},
    )
    cluster.apply(seldon_deployment("iris", "team-b", [predictor("main")]))
    time.sleep(0.5)
    assert cluster.deployments("team-b") == [] and cluster.status("team-b", "iris") == {}

    port, cert, key = free_port(), cluster.directory / "tls.crt", cluster.directory / "tls.key"
    make_certificate(cert, key)
    args = operator_args(
        cluster.kubeconfig, port, "--namespace", "team-b", "--tls-cert-file", str(cert), "--tls-key-file", str(key)
    )
    with running(args, cluster.directory / "team-b.log") as team_b:
        wait_port(port, proc=team_b)
        assert requests.get(f"https://127.0.0.1:{port}/healthz", verify=str(cert), timeout=5).status_code == 200
        wait_for(lambda: cluster.deployments("team-b") == ["iris-main-0-classifier"], what="the namespaced operator")
        roll_out(cluster.api, "team-b")
        cluster.wait_state("team-b", "iris", "Available")


def test_deleting_the_sdep_leaves_cleanup_to_owner_garbage_collection(cluster):
    cluster.apply(seldon_deployment("iris", "gone", [predictor("main")]))
    wait_for(lambda: cluster.deployments("gone"), what="the model Deployment")
    cluster.kube.request("DELETE", SDEPS.format(ns="gone") + "/iris")
    wait_for(lambda: cluster.deployments("gone") == [], what="garbage collection")
    time.sleep(0.5)
    assert cluster.deployments("gone") == []
    assert cluster.api.objects("services", "gone") == []


def test_sigterm_lets_a_running_reconcile_finish(cluster):
    """The API answers writes slowly; SIGTERM arrives mid-reconcile; the operator exits only after finishing it."""
    port = free_port()
    cluster.api.write_delay = 0.3
    try:
        with running(
            operator_args(cluster.kubeconfig, port, "--controller-id", "drain"),
            cluster.directory / "drain.log",
            ready_url=f"http://127.0.0.1:{port}/healthz",
        ) as drained:
            cluster.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "drain"}})
            mark = len(cluster.api.requests)
            cluster.api.create(
                seldon_deployment("iris", "drain", [predictor("main")], labels={"seldon.io/controller-id": "drain"})
            )
            wait_for(
                lambda: any(
                    r.method == "PATCH" and "/namespaces/drain/" in r.path for r in cluster.api.requests[mark:]
                ),
                what="the first apply",
            )
            assert stop(drained, timeout=30) == 0
        assert cluster.deployments("drain") == ["iris-main-0-classifier"]
        assert [s["metadata"]["name"] for s in cluster.api.objects("services", "drain")] == [
            "iris-main",
            "iris-main-classifier",
        ]
        assert cluster.status("drain", "iris")["state"] == "Creating"
    finally:
        cluster.api.write_delay = 0.0


def manifest_env() -> dict:
    """The plain env values of the shipped operator Deployment (operator/config/manager/deployment.yaml)."""
    deployment = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "operator" / "config" / "manager" / "deployment.yaml").read_text()
    )
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def test_sdeps_created_while_the_operator_was_down_are_reconciled_at_start(cluster):
    """kopf's initial listing (resume) reconciles what changed while no operator was running. This operator runs
    with the shipped Deployment's environment (Ambassador on, the engine image), which must show in its output."""
    cluster.apply(
        seldon_deployment("iris", "resume", [predictor("main")], labels={"seldon.io/controller-id": "resume"})
    )
    time.sleep(0.3)
    assert cluster.deployments("resume") == []
    port, liveness = free_port(), free_port()
    args = operator_args(
        cluster.kubeconfig,
        port,
        "--controller-id",
        "resume",
        "--liveness-endpoint",
        f"http://127.0.0.1:{liveness}/healthz",
    )
    env = manifest_env()
    with running(args, cluster.directory / "resume.log", ready_url=f"http://127.0.0.1:{port}/healthz", env=env):
        wait_for(lambda: cluster.deployments("resume") == ["iris-main-0-classifier"], what="the resumed SDep")
        wait_http(f"http://127.0.0.1:{liveness}/healthz")  # kopf's own liveness probe
        images = [
            c["image"]
            for c in cluster.api.objects("deployments", "resume")[0]["spec"]["template"]["spec"]["containers"]
        ]
        assert env["RELATED_IMAGE_EXECUTOR"] in images
        roll_out(cluster.api, "resume")
        wait_for(lambda: len(cluster.api.objects("mappings", "resume")) == 2, what="the Ambassador Mappings")
