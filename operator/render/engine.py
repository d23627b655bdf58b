"""The injected engine container (`seldon-engine`, the drop-in for the original's executor) and the separate
engine Deployment of `seldon.io/engine-separate-pod`.

The engine learns its graph from ENGINE_PREDICTOR (base64 JSON of the defaulted predictor, without traffic,
replicas and explainer) and runs the executor's command line, so either image can be configured.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from seldon_graph import naming
from seldon_graph.operator.render.containers import compact_json
from seldon_graph.operator.render.errors import RenderError
from seldon_graph.operator.render.meta import (
    CONTAINS_ENGINE_LABEL,
    SDEP_ID_LABEL,
    SELDON_APP_LABEL,
    object_meta,
    predictor_service,
    seldon_id,
    sorted_map,
)
from seldon_graph.operator.render.pods import (
    ENGINE_CONTAINER,
    PODINFO_MOUNT,
    podinfo_volume,
    prometheus_annotations,
    replicas,
    rolling_update,
)
from seldon_graph.operator.render.settings import OperatorSettings
from seldon_graph.sdep import PredictorSpec, SeldonDeployment, SeldonDeploymentSpec
from seldon_graph.sdep.defaulting import SEPARATE_ENGINE_ANNOTATION

ENGINE_ANNOTATION_PREFIX = "seldon.io/engine-"
LOGGER_QUEUE_ANNOTATION = "seldon.io/executor-logger-queue-size"
LOGGER_WRITE_TIMEOUT_ANNOTATION = "seldon.io/executor-logger-write-timeout-ms"


def engine_predictor(predictor: PredictorSpec) -> str:
    """ENGINE_PREDICTOR: base64 of the predictor's JSON without traffic, replicas and explainer."""
    lone = copy.deepcopy(predictor)
    lone.traffic = lone.replicas = lone.explainer = None
    return base64.b64encode(compact_json(lone.to_dict()).encode("utf-8")).decode("ascii")


def _annotation_int(sdep: SeldonDeployment, key: str, default: int, variable: str) -> str:
    value = sdep.annotation(key)
    if value is None:
        return str(default)
    try:
        return str(int(value))
    except ValueError:
        raise RenderError(f"annotation {key}: {value!r} is not an integer (it sets {variable})") from None


def engine_env(sdep: SeldonDeployment, predictor: PredictorSpec, settings: OperatorSettings) -> list[dict]:
    env = [
        {"name": "ENGINE_PREDICTOR", "value": engine_predictor(predictor)},
        {"name": "REQUEST_LOGGER_DEFAULT_ENDPOINT", "value": settings.engine.logger_endpoint},
    ]
    own = copy.deepcopy((predictor.svc_orch_spec.env if predictor.svc_orch_spec else None) or [])
    env += own
    taken = {e.get("name") for e in own}
    annotations = (sdep.spec.annotations if sdep.spec else None) or {}
    for key in sorted(annotations):
        if key.startswith(ENGINE_ANNOTATION_PREFIX) and key != SEPARATE_ENGINE_ANNOTATION:
            name = key[len(ENGINE_ANNOTATION_PREFIX) :].upper().replace("-", "_")
            if name not in taken:
                env.append({"name": name, "value": annotations[key]})
    return env


def engine_container(sdep: SeldonDeployment, predictor: PredictorSpec, settings: OperatorSettings) -> dict:
    """The engine container, with the executor's arguments, ports, probes and resources."""
    engine = settings.engine
    spec = sdep.spec or SeldonDeploymentSpec()  # validated SDeps have one; an absent one reads as all defaults
    scheme = "HTTPS" if predictor.ssl and predictor.ssl.cert_secret_name else "HTTP"
    args = [
        "--sdep",
        sdep.name,
        "--namespace",
        sdep.namespace,
        "--predictor",
        predictor.name or "",
        "--http_port",
        str(engine.http_port),
        "--grpc_port",
        str(engine.grpc_port),
        "--protocol",
        spec.protocol or "seldon",
        "--transport",
        spec.transport or "rest",
        "--prometheus_path",
        engine.prometheus_path,
        "--server_type",
        spec.server_type or "rpc",
        "--log_work_buffer_size",
        _annotation_int(
            sdep, LOGGER_QUEUE_ANNOTATION, engine.logger_queue_size, "EXECUTOR_REQUEST_LOGGER_WORK_QUEUE_SIZE"
        ),
        "--log_write_timeout_ms",
        _annotation_int(
            sdep,
            LOGGER_WRITE_TIMEOUT_ANNOTATION,
            engine.logger_write_timeout_ms,
            "EXECUTOR_REQUEST_LOGGER_WRITE_TIMEOUT_MS",
        ),
        f"--full_health_checks={'true' if engine.full_health_checks else 'false'}",
    ]
    probe = {
        "initialDelaySeconds": 20,
        "periodSeconds": 5,
        "failureThreshold": 3,
        "successThreshold": 1,
        "timeoutSeconds": 60,
    }
    resources = (predictor.svc_orch_spec.resources if predictor.svc_orch_spec else None) or {
        "requests": {"cpu": engine.cpu_request, "memory": engine.memory_request},
        "limits": {"cpu": engine.cpu_limit, "memory": engine.memory_limit},
    }
    container: dict[str, Any] = {"name": ENGINE_CONTAINER, "image": engine.image}
    if engine.command:
        container["command"] = list(engine.command)
    container.update(
        {
            "args": args,
            "env": engine_env(sdep, predictor, settings),
            "imagePullPolicy": engine.pull_policy,
            "ports": [
                {"name": "http", "containerPort": engine.http_port, "protocol": "TCP"},
                {"name": engine.metrics_port_name, "containerPort": engine.http_port, "protocol": "TCP"},
                {"name": "grpc", "containerPort": engine.grpc_port, "protocol": "TCP"},
            ],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": engine.http_port, "scheme": scheme}, **probe},
            "livenessProbe": {"httpGet": {"path": "/live", "port": engine.http_port, "scheme": scheme}, **probe},
            "resources": copy.deepcopy(resources),
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "volumeMounts": [dict(PODINFO_MOUNT)],
        }
    )
    if engine.user is not None:
        container["securityContext"] = {"runAsUser": engine.user, "allowPrivilegeEscalation": False}
    return container


def add_engine(deployment: dict, sdep: SeldonDeployment, predictor: PredictorSpec, settings: OperatorSettings) -> None:
    """Inject the engine into a model Deployment (last container), with the predictor Service's selector label."""
    service = predictor_service(sdep, predictor)
    pod = deployment["spec"]["template"]["spec"]
    if not any(c.get("name") == ENGINE_CONTAINER for c in pod["containers"]):
        pod["containers"].append(engine_container(sdep, predictor, settings))
    meta = deployment["metadata"]
    meta["labels"] = sorted_map({**meta["labels"], CONTAINS_ENGINE_LABEL: "true", SELDON_APP_LABEL: service})
    selector = deployment["spec"]["selector"]["matchLabels"]
    deployment["spec"]["selector"]["matchLabels"] = sorted_map({**selector, SELDON_APP_LABEL: service})
    template = deployment["spec"]["template"]["metadata"]
    template["labels"] = sorted_map({**template["labels"], SELDON_APP_LABEL: service})


def svc_orch_deployment(sdep: SeldonDeployment, predictor: PredictorSpec, settings: OperatorSettings) -> dict:
    """The separate engine Deployment `<sdep>-<predictor>-svc-orch` (seldon.io/engine-separate-pod)."""
    name = naming.svc_orch_name(sdep.name, predictor.name or "")
    service = predictor_service(sdep, predictor)
    selector = {SELDON_APP_LABEL: service, SDEP_ID_LABEL: seldon_id(sdep)}
    labels = {"app": name, "fluentd": "true", "version": "v1", **(predictor.labels or {}), **selector}
    meta_labels = {CONTAINS_ENGINE_LABEL: "true", **labels}
    spec_annotations = (sdep.spec.annotations if sdep.spec else None) or {}
    security = {"runAsUser": settings.default_user_id} if settings.default_user_id is not None else {}
    pod = {
        "containers": [engine_container(sdep, predictor, settings)],
        "serviceAccountName": settings.engine.service_account,
        "terminationGracePeriodSeconds": 20,
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "restartPolicy": "Always",
        "securityContext": security,
        "volumes": [podinfo_volume()],
    }
    spec: dict[str, Any] = {"selector": {"matchLabels": sorted_map(selector)}}
    count = replicas(sdep, predictor, predictor.svc_orch_spec.replicas if predictor.svc_orch_spec else None)
    if count is not None:
        spec["replicas"] = count
    spec["strategy"] = rolling_update()
    spec["template"] = {
        "metadata": {"labels": sorted_map(labels), "annotations": prometheus_annotations(settings)},
        "spec": pod,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": object_meta(sdep, name, meta_labels, spec_annotations),
        "spec": spec,
    }
