"""The legacy Ambassador form: a `getambassador.io/config` YAML annotation on each predictor Service.

Selected with AMBASSADOR_VERSION=v1. The text matches what the Seldon v1 operator writes (go-yaml v2 output:
fixed key order, sorted map keys, double-quoted strings when quoting is needed, documents joined by `---`),
except that each TLSContext is named as the mappings next to it reference it.
"""

from __future__ import annotations

import yaml

from seldon_graph.sdep import SeldonDeployment

from .predictor_routes import AmbassadorConfigError, Options, Route, idle_timeout_ms, policy_fields

ANNOTATION = "getambassador.io/config"
API_VERSION = "ambassador/v1"


class _GoYamlDumper(yaml.SafeDumper):
    """PyYAML emitting like go-yaml v2 for these documents: `""` rather than `''`, no line folding."""

    def choose_scalar_style(self):
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


def _dump(document: dict) -> str:
    return yaml.dump(document, Dumper=_GoYamlDumper, sort_keys=False, default_flow_style=False, width=1 << 16)


def _scope(sdep: SeldonDeployment, route: Route) -> str:
    """`<ns>_<name>` for a namespaced route, `<name>` for the single-namespace one."""
    return f"{sdep.namespace}_{sdep.name}" if route.namespaced else sdep.name


def mapping_name(sdep: SeldonDeployment, route: Route) -> str:
    return f"seldon_{_scope(sdep, route)}_{route.unit}_{route.protocol}_mapping"


def tls_name(sdep: SeldonDeployment, route: Route) -> str:
    return f"seldon_{_scope(sdep, route)}_{route.unit}_tls_config"


def mapping_document(sdep: SeldonDeployment, route: Route, opts: Options) -> dict:
    """One Mapping in the v1 key order (apiVersion, kind, name, grpc, prefix, prefix_regex, rewrite, …)."""
    doc: dict = {"apiVersion": API_VERSION, "kind": "Mapping", "name": mapping_name(sdep, route)}
    if route.protocol == "grpc":
        doc["grpc"] = True
    doc["prefix"] = route.prefix
    if route.protocol == "grpc":
        doc["prefix_regex"] = True
    doc["rewrite"] = "" if route.protocol == "grpc" else "/"
    doc["service"] = route.service
    doc["timeout_ms"] = route.timeout_ms
    idle = idle_timeout_ms(route.timeout_ms)
    if idle:
        doc["idle_timeout_ms"] = idle
    if route.headers:
        doc["headers"] = dict(sorted(route.headers))
    if route.regex_headers:
        doc["regex_headers"] = dict(sorted(route.regex_headers))
    if route.weight:
        doc["weight"] = route.weight
    if route.shadow:
        doc["shadow"] = True
    doc.update(policy_fields(opts, id_as_list=False))
    if route.tls_secret:
        doc["tls"] = tls_name(sdep, route)
    return doc


def tls_document(sdep: SeldonDeployment, route: Route) -> dict:
    return {
        "apiVersion": API_VERSION,
        "kind": "TLSContext",
        "name": tls_name(sdep, route),
        "hosts": [],
        "secret": route.tls_secret,
    }


def annotation_text(sdep: SeldonDeployment, routes: list[Route], opts: Options) -> str:
    """The annotation value for one Service from its routes: per scope `---` REST `---` gRPC `---` TLS."""
    if opts.custom_config:
        return opts.custom_config
    text = ""
    for namespaced in (True, False):
        scoped = [route for route in routes if route.namespaced == namespaced]
        if not scoped:
            continue
        rest = [r for r in scoped if r.protocol == "rest"]
        grpc = [r for r in scoped if r.protocol == "grpc"]
        for group in (rest, grpc):
            for route in group:
                text += "---\n" + _dump(mapping_document(sdep, route, opts))
        text += "---\n"
        with_tls = [r for r in rest + grpc if r.tls_secret]
        if with_tls:
            text += _dump(tls_document(sdep, with_tls[0]))
    return text


def service_name(sdep: SeldonDeployment, route: Route) -> str:
    """The Service a route's annotation lives on: `<svc>` of `service: <svc>.<ns>:<port>`."""
    return route.service.rsplit(":", 1)[0].removesuffix(f".{sdep.namespace}")


def service_annotations(sdep: SeldonDeployment, routes: list[Route], opts: Options) -> dict[str, dict[str, str]]:
    """{Service name: {"getambassador.io/config": text}} for every predictor and explainer Service."""
    by_service: dict[str, list[Route]] = {}
    for route in routes:
        by_service.setdefault(service_name(sdep, route), []).append(route)
    return {svc: {ANNOTATION: annotation_text(sdep, svc_routes, opts)} for svc, svc_routes in by_service.items()}


def parse_annotation(text: str) -> list[dict]:
    """The Mapping/TLSContext documents of a `getambassador.io/config` annotation (empty documents dropped)."""
    try:
        return [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]
    except yaml.YAMLError as exc:
        raise AmbassadorConfigError(f"annotation {ANNOTATION} is not valid YAML: {exc}") from None
