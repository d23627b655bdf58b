"""Services: one per graph-node container (`<sdep>-<predictor>-<container>`) and one per predictor (pSvcName),
the latter in front of the engine, or of the model itself for `seldon.io/no-engine` predictors.
"""

from __future__ import annotations

from typing import Any

from seldon_graph import naming
from seldon_graph.labels import SVC_LABEL_PREFIX
from seldon_graph.operator.render.meta import (
    MANAGED_BY,
    SDEP_ID_LABEL,
    SELDON_APP_LABEL,
    object_meta,
    predictor_service,
    seldon_id,
    unit_labels,
)
from seldon_graph.operator.render.settings import OperatorSettings
from seldon_graph.sdep import PredictiveUnit, PredictorSpec, SeldonDeployment

HEADLESS_ANNOTATION = "seldon.io/headless-svc"


def _ports(http_port: int, grpc_port: int, target_http: int | None = None, target_grpc: int | None = None) -> list:
    return [
        {"name": "http", "port": http_port, "targetPort": target_http or http_port, "protocol": "TCP"},
        {"name": "grpc", "port": grpc_port, "targetPort": target_grpc or grpc_port, "protocol": "TCP"},
    ]


def container_service(sdep: SeldonDeployment, predictor: PredictorSpec, unit: PredictiveUnit) -> dict:
    """The Service of one graph-node container, selecting its pods by `seldon-app-svc-<container>`."""
    name = naming.container_service_name(sdep.name, predictor.name or "", unit.name or "")
    svc_label = SVC_LABEL_PREFIX + (unit.name or "")
    labels = {
        svc_label: name,
        SDEP_ID_LABEL: seldon_id(sdep),
        SELDON_APP_LABEL: predictor_service(sdep, predictor),
        **unit_labels(unit, predictor),
    }
    spec = {
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "selector": {svc_label: name},
        "ports": _ports(*unit.ports()),
    }
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(sdep, name, labels, predictor.annotations),
        "spec": spec,
    }


def headless(sdep: SeldonDeployment) -> bool:
    value = sdep.annotation(HEADLESS_ANNOTATION)
    return value is not None and value != "false"


def predictor_service_object(
    sdep: SeldonDeployment,
    predictor: PredictorSpec,
    settings: OperatorSettings,
    model: PredictiveUnit | None = None,
    extra_annotations: dict | None = None,
) -> dict:
    """The predictor Service: engine ports 8000/5001, or the model's own ports when `model` (no-engine) is given."""
    name = predictor_service(sdep, predictor)
    labels = {SELDON_APP_LABEL: name, SDEP_ID_LABEL: seldon_id(sdep), **MANAGED_BY}
    if model is not None:
        labels.update(unit_labels(model, predictor))
        ports = _ports(*model.ports())
    else:
        ports = _ports(
            settings.service_http_port, settings.service_grpc_port, settings.engine.http_port, settings.engine.grpc_port
        )
    spec: dict[str, Any] = {"type": "ClusterIP", "sessionAffinity": "None"}
    if headless(sdep):
        spec["clusterIP"] = "None"
    spec.update({"selector": {SELDON_APP_LABEL: name}, "ports": ports})
    annotations = {**(extra_annotations or {}), **(predictor.annotations or {})}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(sdep, name, labels, annotations),
        "spec": spec,
    }
