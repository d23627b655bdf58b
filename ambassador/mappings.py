"""Ambassador Mapping (and TLSContext) custom resources, getambassador.io/v2 or v3alpha1.

Names are valid Kubernetes names (`seldon-<ns>-<sdep>-<unit>-rest|grpc`, `seldon-<sdep>-<unit>-rest|grpc` for
the single-namespace pair); every object carries `seldon-deployment-id` and a controller ownerReference so the
operator can prune what it no longer renders.
"""

from __future__ import annotations

import re

import yaml

from seldon_graph import naming
from seldon_graph.sdep import SeldonDeployment

from .predictor_routes import AmbassadorConfigError, Options, Route, idle_timeout_ms, policy_fields

GROUP = "getambassador.io"
DEPLOYMENT_ID_LABEL = "seldon-deployment-id"
CLUSTER_TAGS = {"rest": "seldon_http", "grpc": "seldon_grpc"}
MAX_OBJECT_NAME = 253


def object_name(candidate: str) -> str:
    """A valid DNS-subdomain object name: lower case, `[a-z0-9.-]`, at most 253 characters."""
    cleaned = re.sub(r"[^a-z0-9.-]+", "-", candidate.lower()).strip("-.")
    return cleaned if len(cleaned) <= MAX_OBJECT_NAME else f"seldon-{naming.md5_hex(candidate)}"


def _metadata(sdep: SeldonDeployment, name: str) -> dict:
    return {
        "name": name,
        "namespace": sdep.namespace,
        "labels": {DEPLOYMENT_ID_LABEL: naming.seldon_id(sdep.name)},
        "ownerReferences": [sdep.owner_reference()],
    }


def mapping_name(sdep: SeldonDeployment, route: Route) -> str:
    scope = f"{sdep.namespace}-{sdep.name}" if route.namespaced else sdep.name
    return object_name(f"seldon-{scope}-{route.unit}-{route.protocol}")


def tls_context_name(sdep: SeldonDeployment, predictor: str) -> str:
    return object_name(f"seldon-{sdep.namespace}-{sdep.name}-{predictor}-tls")


def _header_fields(route: Route, version: str) -> dict:
    """v2 headers may be `true` (presence); v3alpha1 headers are strings, so presence becomes a regex."""
    headers = dict(route.headers)
    regex_headers = dict(route.regex_headers)
    if version == "v3alpha1":
        for key in [key for key, value in headers.items() if value is True]:
            del headers[key]
            regex_headers.setdefault(key, ".*")
    fields = {}
    if headers:
        fields["headers"] = headers
    if regex_headers:
        fields["regex_headers"] = regex_headers
    return fields


def mapping(sdep: SeldonDeployment, route: Route, opts: Options, *, version: str) -> dict:
    spec: dict = {}
    if version == "v3alpha1":
        spec["hostname"] = "*"
    spec["cluster_tag"] = CLUSTER_TAGS[route.protocol]
    if route.protocol == "grpc":
        spec.update(grpc=True, prefix=route.prefix, prefix_regex=True, rewrite="")
    else:
        spec.update(prefix=route.prefix, rewrite="/")
    spec.update(_header_fields(route, version))
    spec["service"] = route.service
    spec["timeout_ms"] = route.timeout_ms
    idle = idle_timeout_ms(route.timeout_ms)
    if idle:
        spec["idle_timeout_ms"] = idle
    if route.weight is not None:
        spec["weight"] = route.weight
    if route.shadow:
        spec["shadow"] = True
    spec.update(policy_fields(opts, id_as_list=True))
    if route.tls_secret:
        spec["tls"] = tls_context_name(sdep, route.predictor)
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": "Mapping",
        "metadata": _metadata(sdep, mapping_name(sdep, route)),
        "spec": spec,
    }


def tls_context(sdep: SeldonDeployment, predictor: str, secret: str, *, opts: Options, version: str) -> dict:
    """The TLSContext a `tls:` mapping names: Ambassador originates TLS to the engine with this secret."""
    spec: dict = {"hosts": [], "secret": secret}
    if opts.ambassador_id:
        spec["ambassador_id"] = [opts.ambassador_id]
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": "TLSContext",
        "metadata": _metadata(sdep, tls_context_name(sdep, predictor)),
        "spec": spec,
    }


def custom_objects(sdep: SeldonDeployment, text: str, version: str) -> list[dict]:
    """`seldon.io/ambassador-config` as CRs: full getambassador.io objects pass through (namespace, label and
    owner filled in when missing); legacy flat `ambassador/v1` documents become CRs of `version`."""
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise AmbassadorConfigError(f"annotation seldon.io/ambassador-config is not valid YAML: {exc}") from None
    result = []
    for doc in documents:
        if not isinstance(doc, dict) or "kind" not in doc:
            raise AmbassadorConfigError(
                f"annotation seldon.io/ambassador-config must hold YAML documents with a `kind`, got {str(doc)[:80]!r}"
            )
        if "spec" in doc and str(doc.get("apiVersion", "")).startswith(f"{GROUP}/"):
            obj = dict(doc)
            given = dict(doc.get("metadata") or {})
            if "name" not in given:
                raise AmbassadorConfigError("annotation seldon.io/ambassador-config: an object has no metadata.name")
            base = _metadata(sdep, given["name"])
            obj["metadata"] = {**base, **given, "labels": {**base["labels"], **(given.get("labels") or {})}}
        else:
            spec = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "name")}
            if "name" not in doc:
                raise AmbassadorConfigError("annotation seldon.io/ambassador-config: a document has no `name`")
            if version == "v3alpha1" and doc["kind"] == "Mapping" and not {"host", "hostname"} & spec.keys():
                spec = {"hostname": "*", **spec}
            obj = {
                "apiVersion": f"{GROUP}/{version}",
                "kind": doc["kind"],
                "metadata": _metadata(sdep, object_name(str(doc["name"]))),
                "spec": spec,
            }
        result.append(obj)
    return result


def render_objects(sdep: SeldonDeployment, routes: list[Route], opts: Options, *, version: str) -> list[dict]:
    """Mappings in route order, then one TLSContext per predictor with `ssl`."""
    if opts.custom_config:
        return custom_objects(sdep, opts.custom_config, version)
    objects = [mapping(sdep, route, opts, version=version) for route in routes]
    secrets: dict[str, str] = {}
    for route in routes:
        if route.tls_secret:
            secrets.setdefault(route.predictor, route.tls_secret)
    objects.extend(
        tls_context(sdep, predictor, secret, opts=opts, version=version) for predictor, secret in secrets.items()
    )
    return objects
