"""SeldonDeployment → one VirtualService (named seldonId) and one DestinationRule per predictor, as Seldon v1.18.

REST: prefix `/seldon/<ns>/<name>/` rewritten to `/`; gRPC: the Seldon/TensorFlow/inference service regex plus
exact `seldon` and `namespace` headers. One weighted destination per non-shadow predictor (raw `traffic`, a
zero weight left out); a shadow predictor becomes `mirror` (+ `mirrorPercentage` when its traffic is set).
Explainers get their own REST VirtualService and DestinationRule.
"""

from __future__ import annotations

from seldon_graph import naming
from seldon_graph.sdep.ingress import annotation, owner_reference, predictor_ports

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


def _metadata(sdep: dict, name: str) -> dict:
    metadata = sdep["metadata"]
    return {
        "name": name,
        "namespace": metadata.get("namespace") or "default",
        "ownerReferences": [owner_reference(sdep)],
    }


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


def _retries(sdep: dict) -> dict | None:
    raw = annotation(sdep, ANNOTATION_RETRIES)
    if raw is None or raw.strip() == "":
        return None
    try:
        attempts = int(raw.strip())
    except ValueError:
        raise IstioConfigError(f"annotation {ANNOTATION_RETRIES} must be an integer, got {raw!r}") from None
    timeout = annotation(sdep, ANNOTATION_RETRIES_TIMEOUT)
    per_try = _duration(timeout, ANNOTATION_RETRIES_TIMEOUT) if timeout and timeout.strip() else "1s"
    return {"attempts": attempts, "perTryTimeout": per_try, "retryOn": RETRY_ON}


def _hosts(sdep: dict) -> list[str]:
    raw = annotation(sdep, ANNOTATION_HOST)
    hosts = [host.strip() for host in (raw or "").split(",") if host.strip()]
    return hosts or ["*"]


def _destination(host: str, subset: str, port: int) -> dict:
    return {"host": host, "subset": subset, "port": {"number": port}}


def _http_routes(sdep: dict, settings: IstioSettings) -> list[dict]:
    metadata = sdep["metadata"]
    name, namespace = metadata["name"], metadata.get("namespace") or "default"
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
    for predictor in sdep["spec"]["predictors"]:
        host = f"{naming.predictor_service_name(name, predictor)}.{namespace}.svc.cluster.local"
        http_port, grpc_port = predictor_ports(predictor, settings.engine_http_port, settings.engine_grpc_port)
        traffic = int(predictor.get("traffic") or 0)
        for route, port in ((rest, http_port), (grpc, grpc_port)):
            if predictor.get("shadow"):
                route["mirror"] = _destination(host, predictor["name"], port)
                if traffic > 0:
                    route["mirrorPercentage"] = {"value": traffic}
            else:
                destination: dict = {"destination": _destination(host, predictor["name"], port)}
                if traffic:
                    destination["weight"] = traffic
                route["route"].append(destination)
    retries = _retries(sdep)
    if retries:
        rest["retries"] = dict(retries)
        grpc["retries"] = dict(retries)
    return [rest, grpc]


def virtual_service(sdep: dict, settings: IstioSettings) -> dict:
    name = sdep["metadata"]["name"]
    return {
        "apiVersion": settings.api_version,
        "kind": "VirtualService",
        "metadata": _metadata(sdep, naming.seldon_id(name)),
        "spec": {
            "hosts": _hosts(sdep),
            "gateways": [annotation(sdep, ANNOTATION_GATEWAY) or settings.gateway],
            "http": _http_routes(sdep, settings),
        },
    }


def destination_rule(sdep: dict, predictor: dict, settings: IstioSettings) -> dict:
    name, namespace = sdep["metadata"]["name"], sdep["metadata"].get("namespace") or "default"
    service = naming.predictor_service_name(name, predictor)
    version = (predictor.get("labels") or {}).get("version") or predictor["name"]
    if settings.tls_mode:
        policy = {"tls": {"mode": settings.tls_policy_mode()}}
    else:
        policy = {"connectionPool": {"http": {"idleTimeout": IDLE_TIMEOUT}}}
    return {
        "apiVersion": settings.api_version,
        "kind": "DestinationRule",
        "metadata": _metadata(sdep, service),
        "spec": {
            "host": f"{service}.{namespace}.svc.cluster.local",
            "subsets": [{"name": predictor["name"], "labels": {"version": version}}],
            "trafficPolicy": policy,
        },
    }


def explainer_objects(sdep: dict, predictor: dict, settings: IstioSettings) -> list[dict]:
    """The explainer's REST VirtualService (`<svc>-http`) and DestinationRule (short host names, as v1)."""
    name, namespace = sdep["metadata"]["name"], sdep["metadata"].get("namespace") or "default"
    p = predictor["name"]
    service = naming.explainer_name(name, p)
    version = (predictor.get("labels") or {}).get("version") or p
    vs_name = f"{service}-http"[: naming.MAX_NAME].rstrip("-")
    vs = {
        "apiVersion": settings.api_version,
        "kind": "VirtualService",
        "metadata": _metadata(sdep, vs_name),
        "spec": {
            "hosts": _hosts(sdep),
            "gateways": [annotation(sdep, ANNOTATION_GATEWAY) or settings.gateway],
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
        "spec": {"host": service, "subsets": [{"name": p, "labels": {"version": version}}]},
    }
    return [vs, dr]


def render_objects(sdep: dict, settings: IstioSettings) -> list[dict]:
    """The VirtualService, then a DestinationRule per predictor (shadow included), then explainer objects."""
    objects = [virtual_service(sdep, settings)]
    predictors = sdep["spec"]["predictors"]
    objects.extend(destination_rule(sdep, predictor, settings) for predictor in predictors)
    for predictor in predictors:
        if (predictor.get("explainer") or {}).get("type"):
            objects.extend(explainer_objects(sdep, predictor, settings))
    return objects
