"""HPA (autoscaling/v2, with v2beta1 metrics converted), KEDA ScaledObject and PDB (policy/v1) rendering."""

import pytest

from seldon_graph.operator.render.desired import desired_state
from seldon_graph.operator.render.scaling import convert_metric
from seldon_graph.operator.render.settings import OperatorSettings
from tests.support.schemas import validate_all


def sdep(component_extra, uid=None, **predictor_extra):
    metadata = {"name": "dep", "namespace": "ns", **({"uid": uid} if uid else {})}
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": metadata,
        "spec": {
            "replicas": 5,
            "predictors": [
                {
                    "name": "p1",
                    "graph": {"name": "classifier", "type": "MODEL"},
                    **predictor_extra,
                    "componentSpecs": [
                        {"spec": {"containers": [{"name": "classifier", "image": "c:1"}]}, **component_extra}
                    ],
                }
            ],
        },
    }


def render(doc, settings=None):
    objects = desired_state(doc, settings or OperatorSettings())
    validate_all(objects)
    return objects


def of_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def test_hpa_with_v2_metrics_leaves_replicas_unset():
    metrics = [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    ]
    objects = render(sdep({"hpaSpec": {"minReplicas": 1, "maxReplicas": 3, "metricsv2": metrics}}, replicas=2))
    (hpa,) = of_kind(objects, "HorizontalPodAutoscaler")
    assert hpa == {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "dep-p1-0-classifier", "namespace": "ns", "labels": {"seldon-deployment-id": "dep"}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "dep-p1-0-classifier"},
            "minReplicas": 1,
            "maxReplicas": 3,
            "metrics": metrics,
        },
    }
    assert "replicas" not in of_kind(objects, "Deployment")[0]["spec"]


def test_hpa_v2beta1_metrics_are_converted_and_win_over_metricsv2():
    v1 = [{"type": "Resource", "resource": {"name": "cpu", "targetAverageUtilization": 70}}]
    v2 = [
        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}}}
    ]
    (hpa,) = of_kind(
        render(sdep({"hpaSpec": {"maxReplicas": 4, "metrics": v1, "metricsv2": v2}})), "HorizontalPodAutoscaler"
    )
    assert hpa["spec"]["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    ]
    assert "minReplicas" not in hpa["spec"]


@pytest.mark.parametrize(
    "metric, expected",
    [
        (
            {
                "type": "Object",
                "object": {
                    "target": {"kind": "Service", "name": "s", "apiVersion": "v1"},
                    "metricName": "rps",
                    "targetValue": "10",
                },
            },
            {
                "type": "Object",
                "object": {
                    "describedObject": {"kind": "Service", "name": "s", "apiVersion": "v1"},
                    "metric": {"name": "rps"},
                    "target": {"type": "Value", "value": "10"},
                },
            },
        ),
        (
            {"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "5"}},
            {
                "type": "Pods",
                "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "5"}},
            },
        ),
        (
            {"type": "Resource", "resource": {"name": "cpu", "targetAverageValue": "500m"}},
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "AverageValue", "averageValue": "500m"}},
            },
        ),
        (
            {
                "type": "ContainerResource",
                "containerResource": {"name": "cpu", "container": "c", "targetAverageValue": "1"},
            },
            {
                "type": "ContainerResource",
                "containerResource": {
                    "name": "cpu",
                    "container": "c",
                    "target": {"type": "AverageValue", "averageValue": "1"},
                },
            },
        ),
        (
            {
                "type": "External",
                "external": {
                    "metricName": "queue",
                    "metricSelector": {"matchLabels": {"q": "a"}},
                    "targetAverageValue": "30",
                },
            },
            {
                "type": "External",
                "external": {
                    "metric": {"name": "queue", "selector": {"matchLabels": {"q": "a"}}},
                    "target": {"type": "AverageValue", "averageValue": "30"},
                },
            },
        ),
    ],
)
def test_v2beta1_metric_conversion(metric, expected):
    assert convert_metric(metric) == expected
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "maxReplicas": 2, "metrics": [expected]},
    }
    validate_all([hpa])


def test_pdb_selects_the_deployments_own_pods():
    (pdb,) = of_kind(render(sdep({"pdbSpec": {"minAvailable": 1}})), "PodDisruptionBudget")
    assert pdb == {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "dep-p1-0-classifier", "namespace": "ns", "labels": {"seldon-deployment-id": "dep"}},
        "spec": {
            "minAvailable": 1,
            "selector": {"matchLabels": {"app": "dep-p1-0-classifier", "seldon-deployment-id": "dep"}},
        },
    }
    (pdb,) = of_kind(render(sdep({"pdbSpec": {"maxUnavailable": "10%"}})), "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == "10%" and "minAvailable" not in pdb["spec"]


def test_keda_spec_wins_over_the_hpa_only_when_keda_is_enabled():
    keda = {
        "kedaSpec": {
            "minReplicaCount": 2,
            "maxReplicaCount": 15,
            "pollingInterval": 15,
            "triggers": [{"type": "prometheus", "metadata": {"query": "q", "threshold": "1"}}],
        },
        "hpaSpec": {"maxReplicas": 3},
    }
    objects = render(sdep(keda))
    assert [o["metadata"]["name"] for o in of_kind(objects, "HorizontalPodAutoscaler")] == ["dep-p1-0-classifier"]
    assert not of_kind(objects, "ScaledObject")
    assert "replicas" not in of_kind(objects, "Deployment")[0]["spec"]
    only_keda = render(sdep({"kedaSpec": keda["kedaSpec"], "replicas": 4}))
    assert not of_kind(only_keda, "HorizontalPodAutoscaler") and not of_kind(only_keda, "ScaledObject")
    assert of_kind(only_keda, "Deployment")[0]["spec"]["replicas"] == 4
    objects = desired_state(sdep(keda), OperatorSettings.from_env({"KEDA_ENABLED": "true"}))
    assert not of_kind(objects, "HorizontalPodAutoscaler")
    assert "replicas" not in of_kind(objects, "Deployment")[0]["spec"]
    (scaled,) = of_kind(objects, "ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1" and scaled["metadata"]["name"] == "dep-p1-0-classifier"
    assert scaled["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "dep-p1-0-classifier"},
        "pollingInterval": 15,
        "minReplicaCount": 2,
        "maxReplicaCount": 15,
        "triggers": [{"type": "prometheus", "metadata": {"query": "q", "threshold": "1"}}],
    }


def test_scaling_objects_are_owned_by_the_sdep():
    objects = render(sdep({"hpaSpec": {"maxReplicas": 3}, "pdbSpec": {"minAvailable": 1}}, uid="u-1"))
    for obj in objects:
        assert obj["metadata"]["ownerReferences"][0]["uid"] == "u-1"
