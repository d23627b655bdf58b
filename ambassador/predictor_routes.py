"""SeldonDeployment → each predictor's (and explainer's) version-neutral Ambassador routes.

Everything Seldon v1 reads from the SeldonDeployment for Ambassador lives here: which predictors get which
prefix, service, weight, shadow flag, headers, timeouts, retries, circuit breakers and TLS. The v2/v3alpha1 CRs
(`mappings.py`) and the legacy v1 annotation (`legacy.py`) are renderings of these routes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from seldon_graph import naming
from seldon_graph.sdep import PredictorSpec, SeldonDeployment
from seldon_graph.sdep.predictor_service import ServicePorts, service_name, service_ports

GRPC_PREFIX = "/(seldon.protos.*|tensorflow.serving.*|inference.*)/.*"
DEFAULT_TIMEOUT_MS = 3000
IDLE_TIMEOUT_THRESHOLD_MS = 300000
EXPLAINER_HTTP_PORT = 9000
RETRY_ON = "gateway-error"

ANNOTATION_CONFIG = "seldon.io/ambassador-config"
ANNOTATION_SERVICE_NAME = "seldon.io/ambassador-service-name"
ANNOTATION_HEADER = "seldon.io/ambassador-header"
ANNOTATION_REGEX_HEADER = "seldon.io/ambassador-regex-header"
ANNOTATION_ID = "seldon.io/ambassador-id"
ANNOTATION_RETRIES = "seldon.io/ambassador-retries"
ANNOTATION_SHADOW = "seldon.io/ambassador-shadow"
ANNOTATION_REST_TIMEOUT = "seldon.io/rest-timeout"
ANNOTATION_GRPC_TIMEOUT = "seldon.io/grpc-timeout"
CIRCUIT_BREAKER_ANNOTATIONS = {
    "max_connections": "seldon.io/ambassador-circuit-breakers-max-connections",
    "max_pending_requests": "seldon.io/ambassador-circuit-breakers-max-pending-requests",
    "max_requests": "seldon.io/ambassador-circuit-breakers-max-requests",
    "max_retries": "seldon.io/ambassador-circuit-breakers-max-retries",
}

Headers = tuple[tuple[str, Any], ...]


class AmbassadorConfigError(ValueError):
    """A SeldonDeployment annotation that cannot become Ambassador config; the message names the annotation."""


@dataclass(frozen=True)
class Options:
    """The SeldonDeployment-wide annotations (spec.annotations first, then metadata.annotations)."""

    external_name: str
    rest_timeout_ms: int
    grpc_timeout_ms: int
    headers: Headers
    regex_headers: Headers
    ambassador_id: str | None
    retries: int
    circuit_breakers: dict | None
    custom_config: str | None
    shadow_all: bool


@dataclass(frozen=True)
class Route:
    """One Ambassador mapping of one predictor (or explainer), independent of the output form."""

    protocol: str  # "rest" | "grpc"
    namespaced: bool
    unit: str  # the predictor name, or "<predictor>-explainer"
    predictor: str
    service: str
    prefix: str
    timeout_ms: int
    headers: Headers
    regex_headers: Headers
    weight: int | None
    shadow: bool
    tls_secret: str | None


def _int_annotation(sdep: SeldonDeployment, key: str, default: int, what: str) -> int:
    raw = sdep.annotation(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise AmbassadorConfigError(f"annotation {key} must be an integer ({what}), got {raw!r}") from None


def parse_headers(raw: str, legacy: bool) -> Headers:
    """`seldon.io/ambassador-header`: legacy v1 takes "k1:v1[:k2:v2…]"; v2 takes one "k:v" or a bare "k"."""
    parts = [part.strip() for part in raw.split(":")]
    if legacy:
        if len(parts) % 2:
            raise AmbassadorConfigError(
                f"annotation {ANNOTATION_HEADER} must be name:value pairs (name1:value1:name2:value2), got {raw!r}"
            )
        return tuple(sorted(zip(parts[0::2], parts[1::2])))
    if len(parts) > 2:
        raise AmbassadorConfigError(
            f"Only a single custom header match is allowed at present but you provided: {raw} "
            f"(annotation {ANNOTATION_HEADER})"
        )
    if len(parts) == 1:
        return ((parts[0], True),)
    return ((parts[0], parts[1]),)


def parse_regex_header(raw: str) -> Headers:
    """`seldon.io/ambassador-regex-header: "name:regex"`; the regex is everything after the first colon."""
    name, sep, regex = raw.partition(":")
    if not sep or not name.strip() or not regex.strip():
        raise AmbassadorConfigError(f"annotation {ANNOTATION_REGEX_HEADER} must be 'name:regex', got {raw!r}")
    return ((name.strip(), regex.strip()),)


def options(sdep: SeldonDeployment, legacy: bool) -> Options:
    """Read every Ambassador annotation of `sdep`, with a clear error for a malformed one."""
    rest_timeout = _int_annotation(sdep, ANNOTATION_REST_TIMEOUT, DEFAULT_TIMEOUT_MS, "milliseconds")
    grpc_fallback = DEFAULT_TIMEOUT_MS if legacy else rest_timeout
    grpc_timeout = _int_annotation(sdep, ANNOTATION_GRPC_TIMEOUT, grpc_fallback, "milliseconds")
    header = sdep.annotation(ANNOTATION_HEADER)
    regex_header = sdep.annotation(ANNOTATION_REGEX_HEADER)
    breakers = {field: _int_annotation(sdep, key, 0, "a count") for field, key in CIRCUIT_BREAKER_ANNOTATIONS.items()}
    shadow = (sdep.annotation(ANNOTATION_SHADOW) or "").strip().lower()
    return Options(
        external_name=sdep.annotation(ANNOTATION_SERVICE_NAME) or sdep.name,
        rest_timeout_ms=rest_timeout,
        grpc_timeout_ms=grpc_timeout,
        headers=parse_headers(header, legacy) if header else (),
        regex_headers=parse_regex_header(regex_header) if regex_header else (),
        ambassador_id=sdep.annotation(ANNOTATION_ID),
        retries=_int_annotation(sdep, ANNOTATION_RETRIES, 0, "a retry count"),
        circuit_breakers={k: v for k, v in breakers.items() if v} or None,
        custom_config=sdep.annotation(ANNOTATION_CONFIG),
        shadow_all=shadow not in ("", "false"),
    )


def _weight(index: int, predictor: PredictorSpec, shadow: bool, legacy: bool) -> int | None:
    """Canary weight: the first predictor takes the rest (no weight); a shadow mirrors `traffic`% or all."""
    traffic = predictor.traffic or 0
    if shadow:
        return traffic or None
    if index == 0:
        return None
    if legacy and traffic == 0:
        return None
    return traffic


def routes(
    sdep: SeldonDeployment, opts: Options, *, single_namespace: bool, engine_ports: ServicePorts, legacy: bool
) -> list[Route]:
    """Every mapping of `sdep` in output order: per predictor REST_ns, gRPC_ns, then the single-namespace
    pair when enabled, then the explainer's REST mappings."""
    name, namespace = sdep.name, sdep.namespace
    ext = opts.external_name
    result: list[Route] = []
    for index, predictor in enumerate(sdep.predictors):
        p = predictor.name or ""
        ports = service_ports(predictor, engine_ports)
        host = f"{service_name(sdep, predictor)}.{namespace}"
        shadow = bool(predictor.shadow) or opts.shadow_all
        weight = _weight(index, predictor, shadow, legacy)
        tls = (predictor.ssl.cert_secret_name if predictor.ssl else None) or None
        variants = [True, False] if single_namespace else [True]
        for namespaced in variants:
            rest_prefix = f"/seldon/{namespace}/{ext}/" if namespaced else f"/seldon/{ext}/"
            grpc_headers = (("namespace", namespace), ("seldon", ext)) if namespaced and legacy else (("seldon", ext),)
            rest = Route(
                protocol="rest",
                namespaced=namespaced,
                unit=p,
                predictor=p,
                service=f"{host}:{ports.http}",
                prefix=rest_prefix,
                timeout_ms=opts.rest_timeout_ms,
                headers=opts.headers,
                regex_headers=opts.regex_headers,
                weight=weight,
                shadow=shadow,
                tls_secret=tls,
            )
            grpc = dataclasses.replace(
                rest,
                protocol="grpc",
                service=f"{host}:{ports.grpc}",
                prefix=GRPC_PREFIX,
                timeout_ms=opts.grpc_timeout_ms,
                headers=tuple(sorted(dict(grpc_headers + opts.headers).items())),
            )
            result.extend((rest, grpc))
        if predictor.has_explainer():
            explainer_host = f"{naming.explainer_name(name, p)}.{namespace}:{EXPLAINER_HTTP_PORT}"
            for namespaced in variants:
                prefix = f"/seldon/{namespace}/{ext}-explainer/{p}/" if namespaced else f"/seldon/{ext}-explainer/{p}/"
                result.append(
                    Route(
                        protocol="rest",
                        namespaced=namespaced,
                        unit=f"{p}-explainer",
                        predictor=p,
                        service=explainer_host,
                        prefix=prefix,
                        timeout_ms=opts.rest_timeout_ms,
                        headers=opts.headers,
                        regex_headers=opts.regex_headers,
                        weight=None,
                        shadow=False,
                        tls_secret=None,
                    )
                )
    return result


def policy_fields(opts: Options, id_as_list: bool) -> dict:
    """retry_policy, ambassador_id (a list in the CR forms, a string in v1) and circuit_breakers, when set."""
    fields: dict = {}
    if opts.retries:
        fields["retry_policy"] = {"retry_on": RETRY_ON, "num_retries": opts.retries}
    if opts.ambassador_id:
        fields["ambassador_id"] = [opts.ambassador_id] if id_as_list else opts.ambassador_id
    if opts.circuit_breakers:
        fields["circuit_breakers"] = [dict(opts.circuit_breakers)]
    return fields


def idle_timeout_ms(timeout_ms: int) -> int | None:
    """Ambassador's idle timeout follows long request timeouts (above 5 minutes), as Seldon v1 sets it."""
    return timeout_ms if timeout_ms > IDLE_TIMEOUT_THRESHOLD_MS else None
