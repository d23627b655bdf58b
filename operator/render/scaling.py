"""HorizontalPodAutoscaler (autoscaling/v2), KEDA ScaledObject and PodDisruptionBudget (policy/v1) of a model
Deployment, named like it. `hpaSpec.metrics` (the autoscaling/v2beta1 form) is converted to v2.
"""

from __future__ import annotations

import copy
from typing import Any

from seldon_graph.operator.render.meta import SDEP_ID_LABEL, object_meta, seldon_id
from seldon_graph.sdep import HpaSpec, PdbSpec, SeldonDeployment


def _target(metric: dict) -> dict[str, Any]:
    """v2beta1 target fields → a v2 MetricTarget: averageValue, value, else utilization."""
    if metric.get("targetAverageValue") is not None:
        return {"type": "AverageValue", "averageValue": metric["targetAverageValue"]}
    if metric.get("targetValue") is not None:
        return {"type": "Value", "value": metric["targetValue"]}
    target = {"type": "Utilization"}
    if metric.get("targetAverageUtilization") is not None:
        target["averageUtilization"] = metric["targetAverageUtilization"]
    return target


def _identifier(name: str, selector: dict | None) -> dict:
    out: dict[str, Any] = {"name": name}
    if selector:
        out["selector"] = copy.deepcopy(selector)
    return out


def convert_metric(metric: dict) -> dict:
    """One autoscaling/v2beta1 MetricSpec as autoscaling/v2."""
    kind = metric.get("type")
    out: dict = {"type": kind}
    if metric.get("resource"):
        source = metric["resource"]
        out["resource"] = {"name": source["name"], "target": _target(source)}
    if metric.get("containerResource"):
        source = metric["containerResource"]
        out["containerResource"] = {"name": source["name"], "container": source["container"], "target": _target(source)}
    if metric.get("pods"):
        source = metric["pods"]
        out["pods"] = {
            "metric": _identifier(source["metricName"], source.get("selector")),
            "target": {"type": "AverageValue", "averageValue": source["targetAverageValue"]},
        }
    if metric.get("object"):
        source = metric["object"]
        target = (
            {"type": "AverageValue", "averageValue": source["averageValue"]}
            if source.get("averageValue") is not None
            else {"type": "Value", "value": source["targetValue"]}
        )
        out["object"] = {
            "describedObject": copy.deepcopy(source["target"]),
            "metric": _identifier(source["metricName"], source.get("selector")),
            "target": target,
        }
    if metric.get("external"):
        source = metric["external"]
        out["external"] = {
            "metric": _identifier(source["metricName"], source.get("metricSelector")),
            "target": _target(source),
        }
    return out


def hpa(sdep: SeldonDeployment, spec_in: HpaSpec, deployment: str) -> dict:
    spec: dict = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment}}
    if spec_in.min_replicas is not None:
        spec["minReplicas"] = spec_in.min_replicas
    spec["maxReplicas"] = spec_in.max_replicas
    if spec_in.metrics:
        spec["metrics"] = [convert_metric(m) for m in spec_in.metrics]
    elif spec_in.metricsv2:
        spec["metrics"] = copy.deepcopy(spec_in.metricsv2)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": object_meta(sdep, deployment, {SDEP_ID_LABEL: seldon_id(sdep)}),
        "spec": spec,
    }


KEDA_FIELDS = (
    "pollingInterval",
    "cooldownPeriod",
    "idleReplicaCount",
    "minReplicaCount",
    "maxReplicaCount",
    "advanced",
    "triggers",
    "fallback",
)


def scaled_object(sdep: SeldonDeployment, keda_spec: dict, deployment: str) -> dict:
    spec: dict[str, Any] = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment}}
    for key in KEDA_FIELDS:
        if keda_spec.get(key) is not None:
            spec[key] = copy.deepcopy(keda_spec[key])
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": object_meta(sdep, deployment, {SDEP_ID_LABEL: seldon_id(sdep)}),
        "spec": spec,
    }


def pdb(sdep: SeldonDeployment, pdb_spec: PdbSpec, deployment: str) -> dict:
    """The PDB of one Deployment, selecting that Deployment's own pods (`app: <deployment>`).

    The original selected every pod of the SDep, so two PDBs of one SDep covered the same pods and Kubernetes
    refused every eviction of them.
    """
    spec: dict = {}
    if pdb_spec.min_available is not None:
        spec["minAvailable"] = pdb_spec.min_available
    if pdb_spec.max_unavailable is not None:
        spec["maxUnavailable"] = pdb_spec.max_unavailable
    spec["selector"] = {"matchLabels": {"app": deployment, SDEP_ID_LABEL: seldon_id(sdep)}}
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": object_meta(sdep, deployment, {SDEP_ID_LABEL: seldon_id(sdep)}),
        "spec": spec,
    }
