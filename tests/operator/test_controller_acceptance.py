"""The Go operator's controller acceptance cases (operator-semantics §9, the envtest ones), replayed against the
Kubernetes API double.

No Kubernetes API server can run on these machines: `ApiDouble` is a real HTTP server on 127.0.0.1 speaking the
Kubernetes REST API, reached through the REAL kubernetes client; the controller's reconcile is called directly
with the configuration the original's envtest suite used (ISTIO_ENABLED, KEDA_ENABLED, an engine image).
"""

from __future__ import annotations

import copy

import pytest

from seldon_graph.operator.kube import controller as ctl
from seldon_graph.operator.render.desired import desired_state
from seldon_graph.operator.render.settings import OperatorSettings
from tests.operator.conftest import roll_out

NS = "default"
ENVTEST = OperatorSettings.from_env(
    {"ISTIO_ENABLED": "true", "KEDA_ENABLED": "true", "RELATED_IMAGE_EXECUTOR": "seldonio/seldon-graph:envtest"}
)


class Events(list):
    def __call__(self, body, kind, reason, message):
        self.append(reason)


@pytest.fixture
def run(api, kube):
    """Create the SeldonDeployment `sdep` and reconcile it; returns the recorded event reasons."""
    controllers = []

    def reconcile_new(sdep: dict, settings: OperatorSettings = ENVTEST) -> Events:
        if api.get("namespaces", None, NS) is None:
            api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        events = Events()
        controller = ctl.Controller(kube, lambda loaded: desired_state(loaded, settings), settings.sdep, emit=events)
        controllers.append(controller)
        api.create(copy.deepcopy(sdep))
        controller.reconcile(sdep)
        events.controller = controller
        return events

    yield reconcile_new
    for controller in controllers:
        controller.close()


def sdep(
    name: str = "dep",
    annotations: dict | None = None,
    component_specs: list | None = None,
    graph: dict | None = None,
    replicas: int | None = 1,
) -> dict:
    predictor = {
        "name": "p1",
        "graph": graph or {"name": "classifier", "type": "MODEL"},
        "componentSpecs": component_specs
        or [{"spec": {"containers": [{"name": "classifier", "image": "seldonio/mock_classifier:1.0"}]}}],
    }
    if replicas is not None:
        predictor["replicas"] = replicas
    if annotations:
        predictor["annotations"] = annotations
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"predictors": [predictor]},
    }


def containers(api, name: str) -> list[dict]:
    return api.get("deployments", NS, name)["spec"]["template"]["spec"]["containers"]


def test_create_a_seldon_deployment(api, run):
    events = run(sdep())
    dep = api.get("deployments", NS, "dep-p1-0-classifier")
    assert dep["spec"]["replicas"] == 1 and len(containers(api, "dep-p1-0-classifier")) == 2
    env = {e["name"]: e.get("value") for e in containers(api, "dep-p1-0-classifier")[0]["env"]}
    assert env["PREDICTIVE_UNIT_HTTP_SERVICE_PORT"] == "9000" and env["PREDICTIVE_UNIT_GRPC_SERVICE_PORT"] == "9500"
    assert env["PREDICTIVE_UNIT_ID"] == "classifier" and env["PREDICTIVE_UNIT_METRICS_ENDPOINT"] == "/prometheus"
    assert api.get("services", NS, "dep-p1-classifier") is not None
    assert events.count("CreateService") == 2 and events.count("CreateDeployment") == 1

    roll_out(api, NS)
    events.controller.reconcile(sdep())
    status = api.get("seldondeployments", NS, "dep")["status"]
    assert status["replicas"] == 1 and status["state"] == "Available"
    conditions = {c["type"]: (c["status"], c.get("reason")) for c in status["conditions"]}
    assert conditions == {
        "AmbassadorMappingsReady": ("True", "No Ambassador Mappings defined"),
        "DeploymentsReady": ("True", "MinimumReplicasAvailable"),
        "HpasReady": ("True", "No HPAs defined"),
        "KedaReady": ("True", "No KEDA resources defined"),
        "PdbsReady": ("True", "No PDBs defined"),
        "Ready": ("True", None),
        "ServicesReady": ("True", "All services created"),
        "istioVirtualServicesReady": ("True", "All VirtualServices created"),
    }


def test_broken_resource_fails_after_creating_the_services(api, run):
    """A container mounts a volume the pod does not define: the API server refuses the Deployment."""
    broken = [
        {
            "spec": {
                "containers": [
                    {
                        "name": "classifier",
                        "image": "seldonio/mock_classifier:1.0",
                        "volumeMounts": [{"name": "myvol", "mountPath": "/data"}],
                    }
                ]
            }
        }
    ]
    events = run(sdep(component_specs=broken))
    assert events.count("InternalError") == 1
    assert events.count("CreateService") == 2 and events.count("CreateDeployment") == 0
    status = api.get("seldondeployments", NS, "dep")["status"]
    assert status["state"] == "Failed" and '"myvol"' in status["description"]


def test_two_component_specs(api, run):
    specs = [
        {"spec": {"containers": [{"name": "classifier", "image": "seldonio/mock_classifier:1.0"}]}},
        {"spec": {"containers": [{"name": "classifier2", "image": "seldonio/mock_classifier:1.0"}]}},
    ]
    graph = {"name": "classifier", "type": "MODEL", "children": [{"name": "classifier2", "type": "MODEL"}]}
    events = run(sdep(component_specs=specs, graph=graph))
    assert len(containers(api, "dep-p1-0-classifier")) == 2
    assert len(containers(api, "dep-p1-1-classifier2")) == 1
    assert events.count("CreateService") == 3 and events.count("CreateDeployment") == 2


@pytest.mark.parametrize(
    "annotations, count", [({"seldon.io/no-engine": "true"}, 1), ({"seldon.io/no-engine": "false"}, 2), (None, 2)]
)
def test_no_engine(api, run, annotations, count):
    run(sdep(name="dep2", annotations=annotations))
    assert len(containers(api, "dep2-p1-0-classifier")) == count


def test_keda_scaled_object(api, run):
    keda = [
        {
            "spec": {"containers": [{"name": "classifier", "image": "seldonio/mock_classifier:1.0"}]},
            "kedaSpec": {
                "minReplicaCount": 2,
                "maxReplicaCount": 15,
                "triggers": [
                    {
                        "type": "prometheus",
                        "metadata": {
                            "serverAddress": "http://prometheus:9090",
                            "threshold": "1",
                            "query": "sum(rate(requests[1m]))",
                        },
                    }
                ],
            },
        }
    ]
    events = run(sdep(component_specs=keda, replicas=None))
    assert api.get("scaledobjects", NS, "dep-p1-0-classifier") is not None
    assert events.count("CreateService") == 2 and events.count("CreateDeployment") == 1
    assert events.count("CreateScaledObject") == 1
    roll_out(api, NS)
    events.controller.reconcile(sdep())
    conditions = {c["type"]: c.get("reason") for c in api.get("seldondeployments", NS, "dep")["status"]["conditions"]}
    assert conditions["KedaReady"] == "All KEDA resources ready"


def test_unexpected_owned_virtual_services_are_cleaned(api, run, kube):
    """cleaners_test: owned VirtualServices that are not expected are deleted; the expected one stays."""
    events = run(sdep())
    owner = api.get("seldondeployments", NS, "dep")
    reference = {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "name": "dep",
        "uid": owner["metadata"]["uid"],
        "controller": True,
    }
    for rogue in ("name-rouge1", "name-rouge2"):
        api.create(
            {
                "apiVersion": "networking.istio.io/v1alpha3",
                "kind": "VirtualService",
                "metadata": {"name": rogue, "namespace": NS, "ownerReferences": [reference]},
                "spec": {},
            }
        )
    api.create(
        {
            "apiVersion": "networking.istio.io/v1alpha3",
            "kind": "VirtualService",
            "metadata": {"name": "not-ours", "namespace": NS},
            "spec": {},
        }
    )
    roll_out(api, NS)
    events.controller.reconcile(sdep())
    assert [v["metadata"]["name"] for v in api.objects("virtualservices", NS)] == ["dep", "not-ours"]
    assert events.count("DeleteVirtualService") == 2
