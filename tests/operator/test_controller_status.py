"""SeldonDeployment status as a pure function of observed objects (operator/kube/status.py)."""

from __future__ import annotations

import pytest

from seldon_graph.operator.kube import status as st
from tests.support import schemas

SDEP = {
    "apiVersion": "machinelearning.seldon.io/v1",
    "kind": "SeldonDeployment",
    "metadata": {"name": "iris", "namespace": "models", "generation": 4},
    "spec": {"predictors": [{"name": "main", "graph": {"name": "classifier"}}]},
}


def deployment(name="iris-main-0-classifier", generation=1, wanted=1, **status):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "generation": generation},
        "spec": {"replicas": wanted},
        "status": status,
    }


def service(name, http=8000, grpc=5001):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": [{"name": "http", "port": http}, {"name": "grpc", "port": grpc}]},
    }


def key(obj):
    return (obj["apiVersion"].rpartition("/")[0], obj["kind"], obj["metadata"]["name"])


ROLLED_OUT = dict(observedGeneration=1, replicas=1, updatedReplicas=1, readyReplicas=1, availableReplicas=1)


@pytest.mark.parametrize(
    "dep, ready",
    [
        (deployment(**ROLLED_OUT), True),
        (deployment(generation=2, **ROLLED_OUT), False),  # the Deployment controller has not seen the new spec
        (deployment(**{**ROLLED_OUT, "unavailableReplicas": 1}), False),
        (deployment(wanted=2, **ROLLED_OUT), False),  # only 1 of 2 updated
        (deployment(**{**ROLLED_OUT, "replicas": 2}), False),  # an old pod is still there
        (deployment(**{**ROLLED_OUT, "readyReplicas": 0, "availableReplicas": 0}), False),
        (deployment(wanted=0, observedGeneration=1), True),  # scaled to zero on purpose
        (deployment(), False),
    ],
)
def test_deployment_ready(dep, ready):
    assert st.deployment_ready(dep) is ready


@pytest.mark.parametrize(
    "protocol, path",
    [
        (None, "/api/v1.0/predictions"),
        ("seldon", "/api/v1.0/predictions"),
        ("tensorflow", "/v1/models/classifier:predict"),
        ("v2", "/v2/models/classifier/infer"),
        ("kfserving", "/v2/models/classifier/infer"),
    ],
)
def test_prediction_path(protocol, path):
    assert st.prediction_path(protocol, "classifier") == path


def test_available_status_fields():
    dep, svc = deployment(**ROLLED_OUT), service("iris-main")
    status = st.build_status(SDEP, [dep, svc], {key(dep): dep, key(svc): svc}, set(), None, "T1")
    assert status["state"] == "Available" and status["description"] == ""
    assert status["address"] == {"url": "http://iris-main.models.svc.cluster.local:8000/api/v1.0/predictions"}
    assert status["serviceStatus"] == {
        "iris-main": {
            "svcName": "iris-main",
            "httpEndpoint": "iris-main.models:8000",
            "grpcEndpoint": "iris-main.models:5001",
        }
    }
    assert status["observedGeneration"] == 4
    assert all(c["lastTransitionTime"] == "T1" for c in status["conditions"])
    schemas.validate({**SDEP, "status": status})


def test_a_changed_object_is_not_ready_in_the_pass_that_changed_it():
    dep, svc = deployment(**ROLLED_OUT), service("iris-main")
    status = st.build_status(SDEP, [dep, svc], {key(dep): dep, key(svc): svc}, {key(svc)}, None, "T1")
    assert status["state"] == "Creating"
    ready = {c["type"]: c for c in status["conditions"]}
    assert ready["ServicesReady"]["status"] == "False"
    assert ready["Ready"] == {
        "type": "Ready",
        "status": "False",
        "reason": "Not all services created",
        "lastTransitionTime": "T1",
    }


def test_a_stalled_deployment_fails_the_sdep():
    dep = deployment(
        observedGeneration=1,
        replicas=1,
        conditions=[
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"},
            {
                "type": "Available",
                "status": "False",
                "reason": "MinimumReplicasUnavailable",
                "message": "Deployment does not have minimum availability.",
            },
        ],
    )
    status = st.build_status(SDEP, [dep], {key(dep): dep}, set(), None, "T1")
    assert status["state"] == "Failed" and status["description"] == st.NOT_PROGRESSING
    ready = {c["type"]: c for c in status["conditions"]}["DeploymentsReady"]
    assert ready["reason"] == "MinimumReplicasUnavailable"


def test_transition_times_move_only_when_a_condition_changes():
    dep = deployment(observedGeneration=1, replicas=1)
    first = st.build_status(SDEP, [dep], {key(dep): dep}, set(), None, "T1")
    rolled = deployment(**ROLLED_OUT)
    second = st.build_status(SDEP, [rolled], {key(rolled): rolled}, set(), first, "T2")
    times = {c["type"]: c["lastTransitionTime"] for c in second["conditions"]}
    assert times["DeploymentsReady"] == "T2" and times["Ready"] == "T2" and times["HpasReady"] == "T1"
    third = st.build_status(SDEP, [rolled], {key(rolled): rolled}, set(), second, "T3")
    assert third == second
    assert st.status_patch(second, third) == {}


def test_missing_objects_keep_the_sdep_creating_without_an_address():
    dep = deployment()
    status = st.build_status(SDEP, [dep, service("iris-main")], {}, set(), None, "T1")
    assert status["state"] == "Creating"
    assert "address" not in status and status["deploymentStatus"] == {} and "replicas" not in status
    ready = {c["type"]: c for c in status["conditions"]}["DeploymentsReady"]
    assert ready["status"] == "False" and ready["message"] == 'Deployment "iris-main-0-classifier" does not exist yet'


def test_status_patch_nulls_removed_entries_and_leaves_foreign_fields():
    live = {
        "state": "Available",
        "deploymentStatus": {"a": {"replicas": 1}, "b": {"replicas": 1}},
        "someoneElse": {"x": 1},
    }
    new = {"state": "Available", "deploymentStatus": {"a": {"replicas": 2}}}
    assert st.status_patch(live, new) == {"deploymentStatus": {"a": {"replicas": 2}, "b": None}}


def test_failed_status_keeps_what_was_observed():
    previous = {
        "state": "Available",
        "address": {"url": "http://x"},
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "T0"}],
    }
    failed = st.failed_status(previous, "spec.protocol: Invalid value", 5, "T1")
    assert failed["state"] == "Failed" and failed["description"] == "spec.protocol: Invalid value"
    assert failed["address"] == {"url": "http://x"} and failed["observedGeneration"] == 5
    assert failed["conditions"] == [
        {
            "type": "Ready",
            "status": "False",
            "reason": "ReconcileFailed",
            "message": "spec.protocol: Invalid value",
            "lastTransitionTime": "T1",
        }
    ]


def test_replicas_come_from_the_first_model_deployment_not_the_separate_engine():
    engine = deployment(name="iris-main-svc-orch", **{**ROLLED_OUT, "replicas": 3})
    model = deployment(**{**ROLLED_OUT, "replicas": 1})
    status = st.build_status(SDEP, [engine, model], {key(engine): engine, key(model): model}, set(), None, "T1")
    assert status["replicas"] == 1
