"""The graph-node (user model) container as the original operator rewrites it inside its Deployment.

Ports `http`/`grpc` are added, TCP probes and a preStop sleep are set when absent, and the wrapper's
environment is injected (PREDICTIVE_UNIT_*, PREDICTOR_ID, SELDON_DEPLOYMENT_ID, MLServer aliases…) in the
original's order. Values the user already set are kept (the original's helper wiped the whole env list
instead when a port variable was already present).
"""

from __future__ import annotations

import copy
import json

from seldon_graph.sdep import PredictiveUnit, PredictorSpec, SeldonDeployment, uses_grpc

PRESTOP = {"preStop": {"exec": {"command": ["/bin/sh", "-c", "/bin/sleep 10"]}}}


def set_env(container: dict, name: str, value: str, override: bool = False) -> None:
    """Add `name=value` to the container env; an existing entry is replaced only with `override`."""
    env = container.setdefault("env", [])
    for entry in env:
        if entry.get("name") == name:
            if override:
                entry.clear()
                entry.update({"name": name, "value": value})
            return
    env.append({"name": name, "value": value})


def named_port(container: dict, name: str) -> dict | None:
    return next((p for p in container.get("ports") or () if p.get("name") == name), None)


def tcp_probe(port: int, initial_delay: int) -> dict:
    return {
        "tcpSocket": {"port": port},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": 5,
        "successThreshold": 1,
        "failureThreshold": 3,
        "timeoutSeconds": 1,
    }


def compact_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parameters_json(unit: PredictiveUnit) -> str:
    """PREDICTIVE_UNIT_PARAMETERS: the unit's parameters as the original serialises them (name, value, type)."""
    return compact_json([p.to_dict() for p in unit.parameters or ()])


def mutate_unit_container(
    sdep: SeldonDeployment,
    predictor: PredictorSpec,
    unit: PredictiveUnit,
    container: dict,
    metrics_port_name: str,
    prometheus_path: str,
) -> None:
    """Give a graph-node container its ports, probes, preStop hook and injected environment, in place."""
    http_port, grpc_port = unit.ports()
    grpc = uses_grpc(sdep, unit)
    service_port = grpc_port if grpc else http_port
    ports = container.setdefault("ports", [])
    if named_port(container, "http") is None:
        ports.append({"name": "http", "containerPort": http_port, "protocol": "TCP"})
    if named_port(container, "grpc") is None:
        ports.append({"name": "grpc", "containerPort": grpc_port, "protocol": "TCP"})
    container.setdefault("livenessProbe", tcp_probe(service_port, 60))
    container.setdefault("readinessProbe", tcp_probe(service_port, 20))
    container.setdefault("lifecycle", copy.deepcopy(PRESTOP))
    set_env(container, "PREDICTIVE_UNIT_SERVICE_PORT", str(service_port))
    set_env(container, "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", str(http_port))
    set_env(container, "MLSERVER_HTTP_PORT", str(http_port))
    set_env(container, "PREDICTIVE_UNIT_GRPC_SERVICE_PORT", str(grpc_port))
    set_env(container, "MLSERVER_GRPC_PORT", str(grpc_port))
    if unit.parameters:
        set_env(container, "PREDICTIVE_UNIT_PARAMETERS", parameters_json(unit))
    if unit.model_uri:
        set_env(container, "MLSERVER_MODEL_URI", "/mnt/models")
    name = container.get("name") or ""
    for key, value in (
        ("PREDICTIVE_UNIT_ID", name),
        ("MLSERVER_MODEL_NAME", name),
        ("PREDICTIVE_UNIT_IMAGE", container.get("image") or ""),
        ("PREDICTOR_ID", predictor.name or ""),
        ("PREDICTOR_LABELS", compact_json(dict(sorted((predictor.labels or {}).items())))),
        ("SELDON_DEPLOYMENT_ID", sdep.name),
        ("SELDON_EXECUTOR_ENABLED", "true"),
    ):
        set_env(container, key, value, override=True)
    metrics = named_port(container, metrics_port_name)
    if metrics is not None:
        for key, value in (
            ("PREDICTIVE_UNIT_METRICS_SERVICE_PORT", str(metrics.get("containerPort"))),
            ("PREDICTIVE_UNIT_METRICS_ENDPOINT", prometheus_path),
            ("MLSERVER_METRICS_PORT", str(metrics.get("containerPort"))),
            ("MLSERVER_METRICS_ENDPOINT", prometheus_path),
        ):
            set_env(container, key, value, override=True)
