"""Model Deployments: one per componentSpec, with the graph-node containers rewritten and the pod defaults the
original operator sets (podinfo downward-API volume, grace period, security context, rolling update).
"""

from __future__ import annotations

import copy

from seldon_graph import naming
from seldon_graph.labels import SVC_LABEL_PREFIX
from seldon_graph.operator.render.containers import mutate_unit_container
from seldon_graph.operator.render.meta import (
    MANAGED_BY,
    SDEP_ID_LABEL,
    SHADOW_LABEL,
    object_meta,
    seldon_id,
    sorted_map,
    unit_labels,
)
from seldon_graph.operator.render.settings import OperatorSettings
from seldon_graph.sdep import HpaSpec, PredictiveUnit, PredictorSpec, SeldonDeployment, SeldonPodSpec
from seldon_graph.sdep.defaulting import LEGACY_PODINFO_VOLUME, PODINFO_PATH, PODINFO_VOLUME

PODINFO_MOUNT = {"name": PODINFO_VOLUME, "mountPath": PODINFO_PATH}
ENGINE_CONTAINER = "seldon-container-engine"
TFSERVING_CONTAINER = "tfserving"


def podinfo_volume() -> dict:
    """The downward-API volume through which engine and wrapper read the pod's annotations."""
    return {
        "name": PODINFO_VOLUME,
        "downwardAPI": {
            "defaultMode": 420,
            "items": [{"path": "annotations", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.annotations"}}],
        },
    }


def rolling_update() -> dict:
    return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}}


def prometheus_annotations(settings: OperatorSettings) -> dict:
    return {"prometheus.io/path": settings.engine.prometheus_path, "prometheus.io/scrape": "true"}


def replicas(sdep: SeldonDeployment, predictor: PredictorSpec, own: int | None) -> int | None:
    """`own` (componentSpec or svcOrchSpec) > predictor.replicas > spec.replicas > unset."""
    for candidate in (own, predictor.replicas, sdep.spec.replicas if sdep.spec else None):
        if candidate is not None:
            return candidate
    return None


def graph_unit(predictor: PredictorSpec, container_name: str) -> PredictiveUnit | None:
    """The graph node served by a container (none for sidecars, the engine and the TF Serving helper)."""
    if container_name in (ENGINE_CONTAINER, TFSERVING_CONTAINER):
        return None
    return next((u for u in predictor.units() if u.name == container_name), None)


def autoscaler(component: SeldonPodSpec, settings: OperatorSettings) -> HpaSpec | dict | None:
    """The spec that scales the component: its kedaSpec (a dict) when asked for and enabled, else its hpaSpec.

    The original let `kedaSpec` suppress `hpaSpec` even with KEDA disabled, leaving the Deployment unscaled.
    """
    if component.keda_spec is not None and settings.keda_enabled:
        return component.keda_spec
    return component.hpa_spec


def deployment_name(
    sdep: SeldonDeployment, predictor: PredictorSpec, index: int, component: SeldonPodSpec, settings: OperatorSettings
) -> str:
    return naming.deployment_name(
        sdep.name, predictor.name or "", index, component.to_dict(), settings.deployment_name_as_prefix
    )


def model_deployment(
    sdep: SeldonDeployment, predictor: PredictorSpec, index: int, component: SeldonPodSpec, settings: OperatorSettings
) -> dict:
    """The Deployment of componentSpec `index`, its graph-node containers given ports, probes and env."""
    name = deployment_name(sdep, predictor, index, component, settings)
    sid = seldon_id(sdep)
    pod = copy.deepcopy(component.spec or {})
    component_meta = component.metadata or {}
    labels = {
        SDEP_ID_LABEL: sid,
        "app": name,
        "fluentd": "true",
        **(predictor.labels or {}),
        **(component_meta.get("labels") or {}),
        **MANAGED_BY,
    }
    if predictor.shadow:
        labels[SHADOW_LABEL] = "true"
    selector = {SDEP_ID_LABEL: sid}
    for container in pod.get("containers") or ():
        unit = graph_unit(predictor, container.get("name") or "")
        if unit is None:
            continue
        mutate_unit_container(
            sdep, predictor, unit, container, settings.sdep.metrics_port_name, settings.engine.prometheus_path
        )
        service = naming.container_service_name(sdep.name, predictor.name or "", container["name"])
        labels[SVC_LABEL_PREFIX + container["name"]] = service
        selector[SVC_LABEL_PREFIX + container["name"]] = service
        labels.update(unit_labels(unit, predictor))
    annotations = {
        **((sdep.spec.annotations if sdep.spec else None) or {}),
        **(predictor.annotations or {}),
        **(component_meta.get("annotations") or {}),
    }
    pod_defaults(pod, settings)
    spec: dict = {"selector": {"matchLabels": sorted_map(selector)}}
    if autoscaler(component, settings) is None:
        count = replicas(sdep, predictor, component.replicas)
        if count is not None:
            spec["replicas"] = count
    if predictor.progress_deadline_seconds is not None:
        spec["progressDeadlineSeconds"] = predictor.progress_deadline_seconds
    spec["strategy"] = rolling_update()
    spec["template"] = {
        "metadata": {
            "labels": sorted_map(labels),
            "annotations": sorted_map({**prometheus_annotations(settings), **annotations}),
        },
        "spec": pod,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": object_meta(sdep, name, labels, annotations),
        "spec": spec,
    }


def pod_defaults(pod: dict, settings: OperatorSettings) -> None:
    """Pod-level defaults of the original: restart/DNS/scheduler policy, grace period, security context, podinfo."""
    pod.setdefault("restartPolicy", "Always")
    pod.setdefault("dnsPolicy", "ClusterFirst")
    pod.setdefault("schedulerName", "default-scheduler")
    pod.setdefault("terminationGracePeriodSeconds", 20)
    if pod.get("securityContext") is None and settings.default_user_id is not None:
        pod["securityContext"] = {"runAsUser": settings.default_user_id}
    volumes = pod.setdefault("volumes", [])
    if not any(v.get("name") in (PODINFO_VOLUME, LEGACY_PODINFO_VOLUME) for v in volumes):
        volumes.append(podinfo_volume())
