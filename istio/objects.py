"""SeldonDeployment → one VirtualService (named seldonId) and one DestinationRule per predictor, as Seldon v1.18.

REST: prefix `/seldon/<ns>/<name>/` rewritten to `/`; gRPC: the Seldon/TensorFlow/inference service regex plus
exact `seldon` and `namespace` headers. One weighted destination per non-shadow predictor (raw `traffic`, a
zero weight left out); a shadow predictor becomes `mirror` (+ `mirrorPercentage` when its traffic is set).
Explainers get their own REST VirtualService and DestinationRule.
"""

from __future__ import annotations

from seldon_graph import naming
from seldon_graph.sdep import PredictorSpec, SeldonDeployment
from seldon_graph.sdep.predictor_service import ServicePorts, service_name, service_ports

from .settings import IstioSettings

GRPC_URI_REGEX = ".*tensorflow.*|.*seldon.protos.*|.*inference.*"
RETRY_ON = "gateway-error,connect-failure,refused-stream"
IDLE_TIMEOUT = "60s"
EXPLAINER_HTTP_PORT = 9000
ANNOTATION_GATEWAY = "seldon.io/istio-gateway"
ANNOTATION_HOST = "seldon.io/istio-host"
ANNOTATION_RETRIES = "seldon.io/istio-retries"
ANNOTATION_RETRIES_TIMEOUT = "seldon.io/istio-retries-timeout"


class IstioConfigError(ValueError):
    """A SeldonDeployment annotation that cannot become Istio config; the message names the annotation."""


def _metadata(sdep: SeldonDeployment, name: str) -> dict:
    return {"name": name, "namespace": sdep.namespace, "ownerReferences": [sdep.owner_reference()]}


def _duration(raw: str, key: str) -> str:
    """A retry timeout annotation: seconds ("2", "0.5") or an Istio duration ("2s", "500ms")."""
    value = raw.strip()
    try:
        float(value)
        return f"{value}s"
    except ValueError:
        pass
    number = value.rstrip("hms")
    try:
        float(number)
    except ValueError:
        raise IstioConfigError(f"annotation {key} must be a duration in seconds (e.g. 1 or 1s), got {raw!r}") from None
    return value


def _retries(sdep: SeldonDeployment) -> dict | None:
    raw = sdep.annotation(ANNOTATION_RETRIES)
    if raw is None or raw.strip() == "":
        return None
    try:
        attempts = int(raw.strip())
    except ValueError:
        raise IstioConfigError(f"annotation {ANNOTATION_RETRIES} must be an integer, got {raw!r}") from None
    timeout = sdep.annotation(ANNOTATION_RETRIES_TIMEOUT)
    per_try = _duration(timeout, ANNOTATION_RETRIES_TIMEOUT) if timeout and timeout.strip() else "1s"
    return {"attempts": attempts, "perTryTimeout": per_try, "retryOn": RETRY_ON}


def _hosts(sdep: SeldonDeployment) -> list[str]:
    raw = sdep.annotation(ANNOTATION_HOST)
    hosts = [host.strip() for host in (raw or "").split(",") if host.strip()]
    return hosts or ["*"]


def _destination(host: str, subset: str, port: int) -> dict:
    return {"host": host, "subset": subset, "port": {"number": port}}


def _gateway(sdep: SeldonDeployment, settings: IstioSettings) -> str:
    return sdep.annotation(ANNOTATION_GATEWAY) or settings.gateway


def _version(predictor: PredictorSpec) -> str:
    """The `version` label the predictor's pods carry, which its DestinationRule subset selects."""
    return (predictor.labels or {}).get("version") or predictor.name or ""


def _http_routes(sdep: SeldonDeployment, settings: IstioSettings) -> list[dict]:
    name, namespace = sdep.name, sdep.namespace
    rest: dict = {"match": [{"uri": {"prefix": f"/seldon/{namespace}/{name}/"}}], "rewrite": {"uri": "/"}, "route": []}
    grpc: dict = {
        "match": [
            {
                "uri": {"regex": GRPC_URI_REGEX},
                "headers": {"seldon": {"exact": name}, "namespace": {"exact": namespace}},
            }
        ],
        "route": [],
    }
    engine_ports = ServicePorts(settings.engine_http_port, settings.engine_grpc_port)
    for predictor in sdep.predictors:
        subset = predictor.name or ""
        host = f"{service_name(sdep, predictor)}.{namespace}.svc.cluster.local"
        ports = service_ports(predictor, engine_ports)
        traffic = predictor.traffic or 0
        for route, port in ((rest, ports.http), (grpc, ports.grpc)):
            if predictor.shadow:
                route["mirror"] = _destination(host, subset, port)
                if traffic > 0:
                    route["mirrorPercentage"] = {"value": traffic}
            else:
                destination: dict = {"destination": _destination(host, subset, port)}
                if traffic:
                    destination["weight"] = traffic
                route["route"].append(destination)
    retries = _retries(sdep)
    if retries:
        rest["retries"] = dict(retries)
        grpc["retries"] = dict(retries)
    return [rest, grpc]


def virtual_service(sdep: SeldonDeployment, settings: IstioSettings) -> dict:
    return {
        "apiVersion": settings.api_version,
        "kind": "VirtualService",
        "metadata": _metadata(sdep, naming.seldon_id(sdep.name)),
        "spec": {
            "hosts": _hosts(sdep),
            "gateways": [_gateway(sdep, settings)],
            "http": _http_routes(sdep, settings),
        },
    }


def destination_rule(sdep: SeldonDeployment, predictor: PredictorSpec, settings: IstioSettings) -> dict:
    service = service_name(sdep, predictor)
    policy: dict
    if settings.tls_mode:
        policy = {"tls": {"mode": settings.tls_policy_mode()}}
    else:
        policy = {"connectionPool": {"http": {"idleTimeout": IDLE_TIMEOUT}}}
    return {
        "apiVersion": settings.api_version,
        "kind": "DestinationRule",
        "metadata": _metadata(sdep, service),
        "spec": {
            "host": f"{service}.{sdep.namespace}.svc.cluster.local",
            "subsets": [{"name": predictor.name or "", "labels": {"version": _version(predictor)}}],
            "trafficPolicy": policy,
        },
    }


def explainer_objects(sdep: SeldonDeployment, predictor: PredictorSpec, settings: IstioSettings) -> list[dict]:
    """The explainer's REST VirtualService (`<svc>-http`) and DestinationRule (short host names, as v1)."""
    name, namespace = sdep.name, sdep.namespace
    p = predictor.name or ""
    service = naming.explainer_name(name, p)
    vs_name = f"{service}-http"[: naming.MAX_NAME].rstrip("-")
    vs = {
        "apiVersion": settings.api_version,
        "kind": "VirtualService",
        "metadata": _metadata(sdep, vs_name),
        "spec": {
            "hosts": _hosts(sdep),
            "gateways": [_gateway(sdep, settings)],
            "http": [
                {
                    "match": [{"uri": {"prefix": f"/seldon/{namespace}/{name}-explainer/{p}/"}}],
                    "rewrite": {"uri": "/"},
                    "route": [{"destination": _destination(service, p, EXPLAINER_HTTP_PORT), "weight": 100}],
                }
            ],
        },
    }
    dr = {
        "apiVersion": settings.api_version,
        "kind": "DestinationRule",
        "metadata": _metadata(sdep, service),
        "spec": {"host": service, "subsets": [{"name": p, "labels": {"version": _version(predictor)}}]},
    }
    return [vs, dr]


def render_objects(sdep: SeldonDeployment, settings: IstioSettings) -> list[dict]:
    """The VirtualService, then a DestinationRule per predictor (shadow included), then explainer objects."""
    objects = [virtual_service(sdep, settings)]
    objects.extend(destination_rule(sdep, predictor, settings) for predictor in sdep.predictors)
    for predictor in sdep.predictors:
        if predictor.has_explainer():
            objects.extend(explainer_objects(sdep, predictor, settings))
    return objects
