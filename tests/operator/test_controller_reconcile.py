"""The controller's reconcile, called directly, against the Kubernetes API double.

No Kubernetes API server can run on these machines: `ApiDouble` is a real HTTP server on 127.0.0.1 speaking the
Kubernetes REST API (discovery, GET/LIST/WATCH, server-side apply, merge patch, DELETE, status subresource), and
the controller talks to it through the REAL kubernetes client with a kubeconfig. The renderer is the project's
real `desired_state`. The same reconcile driven by kopf is covered in test_controller_kopf.py.
"""

from __future__ import annotations

import pytest

from seldon_graph.ambassador import AmbassadorSettings
from seldon_graph.istio import IstioSettings
from seldon_graph.operator.kube import controller as ctl
from seldon_graph.operator.kube.api import HASH_ANNOTATION, contains
from seldon_graph.operator.render.desired import desired_state
from seldon_graph.operator.render.settings import OperatorSettings
from tests.operator.apidouble import canonical_quantities
from tests.operator.conftest import predictor, roll_out, seldon_deployment, wait_for
from tests.support import schemas

pytestmark = pytest.mark.e2e

NS = "models"


class Recorder:
    def __init__(self):
        self.events: list[tuple[str, str, str]] = []

    def __call__(self, body, kind, reason, message):
        self.events.append((kind, reason, message))

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.events]


def make_controller(kube, settings: OperatorSettings | None = None, **kwargs):
    settings = settings or OperatorSettings()
    recorder = Recorder()
    controller = ctl.Controller(
        kube,
        lambda loaded: desired_state(loaded, settings),
        settings.sdep,
        emit=recorder,
        clock=lambda: "2026-11-26T08:00:00Z",
        **kwargs,
    )
    return controller, recorder


def reconcile(controller, name: str, namespace: str = NS):
    return controller.reconcile({"metadata": {"name": name, "namespace": namespace}})


def create(api, sdep: dict) -> dict:
    if api.get("namespaces", None, sdep["metadata"]["namespace"]) is None:
        api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": sdep["metadata"]["namespace"]}})
    return api.create(sdep)


def patch_spec(kube, name: str, spec_patch: dict, namespace: str = NS) -> None:
    """Change a SeldonDeployment as `kubectl patch --type merge` would."""
    kube.request(
        "PATCH",
        f"/apis/machinelearning.seldon.io/v1/namespaces/{namespace}/seldondeployments/{name}",
        body={"spec": spec_patch},
        content_type="application/merge-patch+json",
    )


def sdep_status(api, name: str, namespace: str = NS) -> dict:
    return api.get("seldondeployments", namespace, name).get("status") or {}


def names(api, plural: str, namespace: str = NS) -> list[str]:
    return [o["metadata"]["name"] for o in api.objects(plural, namespace)]


def test_create_applies_every_rendered_object_with_server_side_apply(api, kube):
    controller, recorder = make_controller(kube)
    created = create(api, seldon_deployment("iris", NS, [predictor("main")]))
    reconcile(controller, "iris")

    live_sdep = api.get("seldondeployments", NS, "iris")
    wanted = desired_state({k: v for k, v in live_sdep.items() if k != "status"}, OperatorSettings())
    assert names(api, "deployments") == ["iris-main-0-classifier"]
    assert names(api, "services") == ["iris-main", "iris-main-classifier"]
    for obj in wanted:
        live = api.get(f"{obj['kind'].lower()}s", NS, obj["metadata"]["name"])
        canonical_quantities(obj)  # as the API server stores it: CPU "0.5" reads back as "500m"
        assert contains(live, {k: v for k, v in obj.items() if k != "status"}), obj["metadata"]["name"]
        assert live["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
        assert HASH_ANNOTATION in live["metadata"]["annotations"]
        schemas.validate({k: v for k, v in live.items() if k != "status"})
    applies = [r for r in api.writes() if r.method == "PATCH" and not r.path.endswith("/status")]
    assert len(applies) == len(wanted)
    assert {r.content_type for r in applies} == {"application/apply-patch+yaml"}
    assert all(r.query == {"fieldManager": "seldon-graph", "force": "true"} for r in applies)

    status = sdep_status(api, "iris")
    assert status["state"] == "Creating" and status["description"] == ""
    assert status["address"]["url"] == "http://iris-main.models.svc.cluster.local:8000/api/v1.0/predictions"
    schemas.validate(api.get("seldondeployments", NS, "iris"))
    assert recorder.reasons().count("CreateDeployment") == 1
    assert recorder.reasons().count("CreateService") == 2
    assert recorder.reasons()[-1] == "Updated"


def test_status_becomes_available_once_deployments_roll_out(api, kube):
    controller, _ = make_controller(kube)
    create(api, seldon_deployment("iris", NS, [predictor("main", replicas=2)]))
    reconcile(controller, "iris")
    assert sdep_status(api, "iris")["state"] == "Creating"

    roll_out(api, NS)
    reconcile(controller, "iris")
    status = sdep_status(api, "iris")
    assert status["state"] == "Available" and status["description"] == ""
    assert status["deploymentStatus"] == {"iris-main-0-classifier": {"replicas": 2, "availableReplicas": 2}}
    assert status["replicas"] == 2
    assert status["serviceStatus"]["iris-main"] == {
        "svcName": "iris-main",
        "httpEndpoint": "iris-main.models:8000",
        "grpcEndpoint": "iris-main.models:5001",
    }
    assert status["serviceStatus"]["iris-main-classifier"]["svcName"] == "iris-main-classifier"
    conditions = {c["type"]: c for c in status["conditions"]}
    assert [c["type"] for c in status["conditions"]] == sorted(conditions)
    assert all(c["status"] == "True" for c in conditions.values())
    assert conditions["DeploymentsReady"]["reason"] == "MinimumReplicasAvailable"
    assert status["observedGeneration"] == 1
    schemas.validate(api.get("seldondeployments", NS, "iris"))


def test_second_reconcile_of_an_unchanged_sdep_writes_nothing(api, kube):
    controller, recorder = make_controller(kube)
    create(api, seldon_deployment("iris", NS, [predictor("main"), predictor("canary", traffic=25)]))
    patch_spec(kube, "iris", {"predictors": [predictor("main", traffic=75), predictor("canary", traffic=25)]})
    reconcile(controller, "iris")
    roll_out(api, NS)
    reconcile(controller, "iris")
    assert sdep_status(api, "iris")["state"] == "Available"

    mark, events, rv = len(api.requests), len(recorder.events), api.last_rv()
    reconcile(controller, "iris")
    reconcile(controller, "iris")
    assert api.writes(mark) == []
    assert recorder.events[events:] == []
    assert api.last_rv() == rv


def test_a_restarted_controller_settles_despite_normalised_values(api, kube):
    """After a restart nothing is cached: objects whose live form differs only by server normalisation (CPU
    "0.5" vs "500m") are applied once more, the server changes nothing, and the next reconcile sends nothing."""
    first, _ = make_controller(kube)
    create(api, seldon_deployment("iris", NS, [predictor("main")]))
    reconcile(first, "iris")
    roll_out(api, NS)
    reconcile(first, "iris")
    assert sdep_status(api, "iris")["state"] == "Available"

    restarted, recorder = make_controller(kube)
    rv = api.last_rv()
    reconcile(restarted, "iris")
    assert api.last_rv() == rv and recorder.events == []
    assert sdep_status(api, "iris")["state"] == "Available"
    mark = len(api.requests)
    reconcile(restarted, "iris")
    assert api.writes(mark) == []


def test_update_of_replicas_and_image_patches_only_what_changed(api, kube):
    controller, recorder = make_controller(kube)
    create(api, seldon_deployment("iris", NS, [predictor("main")]))
    reconcile(controller, "iris")
    roll_out(api, NS)
    reconcile(controller, "iris")
    before = api.get("deployments", NS, "iris-main-0-classifier")

    patch_spec(kube, "iris", {"predictors": [predictor("main", image="seldonio/mock_classifier:2.0", replicas=3)]})
    mark = len(api.requests)
    reconcile(controller, "iris")
    after = api.get("deployments", NS, "iris-main-0-classifier")
    assert after["spec"]["replicas"] == 3
    images = [c["image"] for c in after["spec"]["template"]["spec"]["containers"]]
    assert "seldonio/mock_classifier:2.0" in images and "seldonio/mock_classifier:1.18.2" not in images
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    changed = [r.path for r in api.writes(mark) if r.method == "PATCH" and not r.path.endswith("/status")]
    assert changed == ["/apis/apps/v1/namespaces/models/deployments/iris-main-0-classifier"]
    assert "UpdateDeployment" in recorder.reasons()
    assert sdep_status(api, "iris")["state"] == "Creating"

    roll_out(api, NS)
    reconcile(controller, "iris")
    status = sdep_status(api, "iris")
    assert status["state"] == "Available"
    assert status["deploymentStatus"]["iris-main-0-classifier"] == {"replicas": 3, "availableReplicas": 3}


def test_removed_predictor_objects_are_pruned_once_the_rest_is_rolled_out(api, kube):
    controller, recorder = make_controller(kube)
    create(api, seldon_deployment("iris", NS, [predictor("main", traffic=75), predictor("canary", traffic=25)]))
    create(api, seldon_deployment("other", NS, [predictor("main")]))
    stranger = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hand-made", "namespace": NS, "labels": {"seldon-deployment-id": "iris"}},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}}},
    }
    api.create(stranger)
    reconcile(controller, "iris")
    reconcile(controller, "other")
    roll_out(api, NS)
    reconcile(controller, "iris")
    assert "iris-canary-0-classifier" in names(api, "deployments")

    patch_spec(kube, "iris", {"predictors": [predictor("main")]})
    reconcile(controller, "iris")
    assert names(api, "deployments") == ["hand-made", "iris-main-0-classifier", "other-main-0-classifier"]
    assert names(api, "services") == ["iris-main", "iris-main-classifier", "other-main", "other-main-classifier"]
    assert {"DeleteDeployment", "DeleteService"} <= set(recorder.reasons())
    status = sdep_status(api, "iris")
    assert status["state"] == "Available"
    assert list(status["deploymentStatus"]) == ["iris-main-0-classifier"]
    assert sorted(status["serviceStatus"]) == ["iris-main", "iris-main-classifier"]


def test_routing_objects_wait_for_the_rollout(api, kube):
    settings = OperatorSettings(istio=IstioSettings(enabled=True))
    controller, _ = make_controller(kube, settings)
    create(api, seldon_deployment("iris", NS, [predictor("main", traffic=90), predictor("canary", traffic=10)]))
    reconcile(controller, "iris")
    assert names(api, "virtualservices") == [] and names(api, "destinationrules") == []
    conditions = {c["type"]: c for c in sdep_status(api, "iris")["conditions"]}
    assert conditions["istioVirtualServicesReady"]["status"] == "False"

    roll_out(api, NS)
    reconcile(controller, "iris")
    assert names(api, "virtualservices") == ["iris"]
    assert names(api, "destinationrules") == ["iris-canary", "iris-main"]
    virtual_service = api.get("virtualservices", NS, "iris")
    schemas.validate({k: v for k, v in virtual_service.items() if k != "status"})
    status = sdep_status(api, "iris")
    assert status["state"] == "Available"
    assert all(c["status"] == "True" for c in status["conditions"])


def test_invalid_sdep_is_failed_with_the_validation_message(api, kube):
    controller, recorder = make_controller(kube)
    bad = seldon_deployment("iris", NS, [predictor("main")])
    bad["spec"]["protocol"] = "soap"
    create(api, bad)
    reconcile(controller, "iris")
    status = sdep_status(api, "iris")
    assert status["state"] == "Failed"
    assert "spec.protocol" in status["description"] and "soap" in status["description"]
    assert names(api, "deployments") == [] and names(api, "services") == []
    assert ("Warning", "InvalidSpec", status["description"]) in recorder.events
    schemas.validate(api.get("seldondeployments", NS, "iris"))

    typo = seldon_deployment("typo", NS, [predictor("main")])
    typo["spec"]["predictors"][0]["graph"]["typ"] = "MODEL"
    create(api, typo)
    reconcile(controller, "typo")
    assert "spec.predictors[0].graph.typ" in sdep_status(api, "typo")["description"]


def test_invalid_update_keeps_the_running_objects(api, kube):
    controller, _ = make_controller(kube)
    create(api, seldon_deployment("iris", NS, [predictor("main")]))
    reconcile(controller, "iris")
    patch_spec(kube, "iris", {"transport": "carrier-pigeon"})
    reconcile(controller, "iris")
    assert sdep_status(api, "iris")["state"] == "Failed"
    assert names(api, "deployments") == ["iris-main-0-classifier"]


def test_an_api_error_marks_the_sdep_failed_with_the_error_text(api, kube):
    settings = OperatorSettings()
    recorder = Recorder()

    def render_with_unknown_kind(loaded):
        widget = {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": NS},
            "spec": {},
        }
        return desired_state(loaded, settings) + [widget]

    controller = ctl.Controller(kube, render_with_unknown_kind, settings.sdep, emit=recorder)
    create(api, seldon_deployment("iris", NS, [predictor("main")]))
    try:
        reconcile(controller, "iris")
        status = sdep_status(api, "iris")
        assert status["state"] == "Failed"
        assert status["description"].startswith("404")
        assert "InternalError" in recorder.reasons()
    finally:
        controller.close()


def test_a_failed_reconcile_is_retried(api, kube):
    """The widget kind is 'installed' after the first failure; the retry (1 s later) then succeeds unprompted."""
    settings = OperatorSettings()
    installed = []

    def render(loaded):
        objects = desired_state(loaded, settings)
        if installed:
            return objects
        installed.append(True)
        return objects + [
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": NS}, "spec": {}}
        ]

    controller = ctl.Controller(kube, render, settings.sdep, emit=Recorder())
    create(api, seldon_deployment("iris", NS, [predictor("main")]))
    try:
        reconcile(controller, "iris")
        assert sdep_status(api, "iris")["state"] == "Failed"
        wait_for(lambda: sdep_status(api, "iris")["state"] == "Creating", timeout=10, what="the retry")
    finally:
        controller.close()


@pytest.mark.parametrize(
    "sdep_labels, namespace_labels, selection, served",
    [
        ({}, {}, ctl.Selection(), True),
        ({"seldon.io/controller-id": ""}, {}, ctl.Selection(), True),
        ({"seldon.io/controller-id": "team-a"}, {}, ctl.Selection(), False),
        ({"seldon.io/controller-id": "team-a"}, {}, ctl.Selection("team-a"), True),
        ({}, {}, ctl.Selection("team-a"), False),
        ({}, {"seldon.io/controller-id": "team-b"}, ctl.Selection(), False),
        ({}, {"seldon.io/controller-id": "team-b"}, ctl.Selection(cluster_wide=False), True),
    ],
)
def test_controller_id_selection(sdep_labels, namespace_labels, selection, served):
    assert selection.accepts(sdep_labels, namespace_labels) is served


def test_unselected_sdeps_are_left_alone(api, kube):
    controller, _ = make_controller(kube)
    api.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "team-b", "labels": {"seldon.io/controller-id": "team-b"}},
        }
    )
    create(api, seldon_deployment("mine", NS, [predictor("main")]))
    create(api, seldon_deployment("theirs", NS, [predictor("main")], labels={"seldon.io/controller-id": "team-a"}))
    create(api, seldon_deployment("sharded", "team-b", [predictor("main")]))
    for name, namespace in (("mine", NS), ("theirs", NS), ("sharded", "team-b")):
        reconcile(controller, name, namespace)
    assert names(api, "deployments", None) == ["mine-main-0-classifier"]
    assert sdep_status(api, "theirs") == {} and sdep_status(api, "sharded", "team-b") == {}


def test_deleted_or_missing_sdep_is_a_no_op(api, kube):
    controller, recorder = make_controller(kube)
    assert reconcile(controller, "ghost") is None
    assert api.writes() == [] and recorder.events == []


def test_routing_objects_no_longer_wanted_are_pruned(api, kube):
    istio = OperatorSettings(istio=IstioSettings(enabled=True))
    controller, _ = make_controller(kube, istio)
    create(api, seldon_deployment("iris", NS, [predictor("main", traffic=90), predictor("canary", traffic=10)]))
    reconcile(controller, "iris")
    roll_out(api, NS)
    reconcile(controller, "iris")
    assert names(api, "destinationrules") == ["iris-canary", "iris-main"]

    patch_spec(kube, "iris", {"predictors": [predictor("main")]})
    reconcile(controller, "iris")
    assert names(api, "destinationrules") == ["iris-main"]
    assert [
        route["destination"]["subset"] for route in api.get("virtualservices", NS, "iris")["spec"]["http"][0]["route"]
    ] == ["main"]

    plain, _ = make_controller(kube)  # the operator restarted with ISTIO_ENABLED unset
    reconcile(plain, "iris")
    assert names(api, "virtualservices") == [] and names(api, "destinationrules") == []
    assert sdep_status(api, "iris")["state"] == "Available"


def test_a_deployment_with_another_selector_is_replaced(api, kube):
    """E.g. a Deployment left by the Seldon v1 operator: its selector is immutable, so it is deleted and recreated."""
    controller, recorder = make_controller(kube)
    create(api, seldon_deployment("iris", NS, [predictor("main")]))
    reconcile(controller, "iris")
    legacy = api.get("deployments", NS, "iris-main-0-classifier")
    kube.delete("apps/v1", "Deployment", NS, "iris-main-0-classifier")
    legacy["metadata"] = {k: legacy["metadata"][k] for k in ("name", "namespace", "ownerReferences")}
    legacy["spec"]["selector"] = {"matchLabels": {"app": "legacy"}}
    legacy["spec"]["template"]["metadata"]["labels"] = {"app": "legacy"}
    old = api.create(legacy)
    mark = len(recorder.events)
    reconcile(controller, "iris")
    new = api.get("deployments", NS, "iris-main-0-classifier")
    assert new["metadata"]["uid"] != old["metadata"]["uid"]
    assert new["spec"]["selector"]["matchLabels"]["seldon-deployment-id"] == "iris"
    assert {"DeleteDeployment", "CreateDeployment"} <= set(recorder.reasons()[mark:])


def test_toggling_a_headless_service_replaces_it(api, kube):
    controller, _ = make_controller(kube)
    sdep = seldon_deployment("iris", NS, [predictor("main")])
    sdep["spec"]["annotations"] = {"seldon.io/headless-svc": "true"}
    create(api, sdep)
    reconcile(controller, "iris")
    headless = api.get("services", NS, "iris-main")
    assert headless["spec"]["clusterIP"] == "None"
    container_service = api.get("services", NS, "iris-main-classifier")

    patch_spec(kube, "iris", {"annotations": None})
    reconcile(controller, "iris")
    with_ip = api.get("services", NS, "iris-main")
    assert with_ip["spec"]["clusterIP"] != "None" and with_ip["metadata"]["uid"] != headless["metadata"]["uid"]

    patch_spec(kube, "iris", {"annotations": {"seldon.io/headless-svc": "true"}})
    reconcile(controller, "iris")
    assert api.get("services", NS, "iris-main")["spec"]["clusterIP"] == "None"
    assert api.get("services", NS, "iris-main-classifier")["metadata"]["uid"] == container_service["metadata"]["uid"]


def test_ambassador_mappings_follow_the_rollout_and_the_predictors(api, kube):
    settings = OperatorSettings(ambassador=AmbassadorSettings(enabled=True))
    controller, _ = make_controller(kube, settings)
    create(api, seldon_deployment("iris", NS, [predictor("main", traffic=75), predictor("canary", traffic=25)]))
    reconcile(controller, "iris")
    assert names(api, "mappings") == []
    roll_out(api, NS)
    reconcile(controller, "iris")
    mappings = api.objects("mappings", NS)
    assert len(mappings) == 4
    for mapping in mappings:
        schemas.validate({k: v for k, v in mapping.items() if k != "status"})
    assert {m["spec"].get("weight") for m in mappings if "canary" in m["metadata"]["name"]} == {25}
    conditions = {c["type"]: c for c in sdep_status(api, "iris")["conditions"]}
    assert conditions["AmbassadorMappingsReady"]["reason"] == "All Ambassador Mappings created"

    patch_spec(kube, "iris", {"predictors": [predictor("main")]})
    reconcile(controller, "iris")
    assert all("canary" not in name for name in names(api, "mappings")) and len(names(api, "mappings")) == 2


def test_fixing_an_invalid_sdep_recovers_it(api, kube):
    controller, _ = make_controller(kube)
    bad = seldon_deployment("iris", NS, [predictor("main")])
    bad["spec"]["protocol"] = "soap"
    create(api, bad)
    reconcile(controller, "iris")
    assert sdep_status(api, "iris")["state"] == "Failed"

    patch_spec(kube, "iris", {"protocol": "seldon"})
    reconcile(controller, "iris")
    roll_out(api, NS)
    reconcile(controller, "iris")
    status = sdep_status(api, "iris")
    assert status["state"] == "Available" and status["description"] == ""
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert status["observedGeneration"] == 2
