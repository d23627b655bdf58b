"""Validate rendered manifests against the published schemas vendored in tests/schemas (offline, jsonschema).

CRD kinds use the openAPIV3Schema of the served version named by the object's apiVersion (Draft 4), made
strict like `kubectl --validate=strict` (unknown fields rejected below the root); Kubernetes kinds use the
standalone strict JSON Schemas.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import jsonschema
import yaml

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"

CRD_FILES = {
    ("machinelearning.seldon.io", "SeldonDeployment"): "seldondeployments.machinelearning.seldon.io.yaml",
    ("getambassador.io", "Mapping"): "ambassador-mapping.yaml",
    ("networking.istio.io", "VirtualService"): "istio-virtualservice.yaml",
    ("networking.istio.io", "DestinationRule"): "istio-destinationrule.yaml",
}
K8S_FILES = {
    ("apps/v1", "Deployment"): "k8s/deployment.json",
    ("v1", "Service"): "k8s/service.json",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "k8s/horizontalpodautoscaler.json",
    ("policy/v1", "PodDisruptionBudget"): "k8s/poddisruptionbudget.json",
}


@functools.cache
def _load(name: str):
    path = SCHEMAS / name
    if name.endswith(".json"):
        return json.loads(path.read_text())
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _strict(schema: dict) -> dict:
    """additionalProperties: false on every object schema (below the root) that lists properties."""
    schema = copy.deepcopy(schema)

    def walk(node, root=False):
        if not isinstance(node, dict):
            return
        if (
            not root
            and "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for child in list(node.get("properties", {}).values()) + list(node.get("patternProperties", {}).values()):
            walk(child)
        for key in ("items", "additionalProperties", "not"):
            walk(node.get(key))
        for key in ("allOf", "anyOf", "oneOf"):
            for child in node.get(key, []):
                walk(child)

    walk(schema, root=True)
    return schema


@functools.cache
def _crd_validator(group: str, kind: str, version: str, strict: bool):
    crd = _load(CRD_FILES[(group, kind)])
    for served in crd["spec"]["versions"]:
        if served["name"] == version:
            schema = served["schema"]["openAPIV3Schema"]
            return jsonschema.Draft4Validator(_strict(schema) if strict else schema)
    raise KeyError(f"{group}/{version} {kind} is not a served version of the CRD")


@functools.cache
def _k8s_validator(api_version: str, kind: str):
    schema = _load(K8S_FILES[(api_version, kind)])
    return jsonschema.validators.validator_for(schema)(schema)


@functools.cache
def _object_meta_validator():
    """Kubernetes' ObjectMeta (from the strict Deployment schema): the API server checks it for custom resources
    too, whatever their CRD says (e.g. an ownerReference without `uid` is refused)."""
    schema = _load(K8S_FILES[("apps/v1", "Deployment")])["properties"]["metadata"]
    return jsonschema.validators.validator_for(schema)(schema)


def validate(obj: dict, strict: bool = True) -> None:
    """Raise jsonschema.ValidationError (with the failing path) when `obj` does not match its published schema."""
    api_version, kind = obj["apiVersion"], obj["kind"]
    errors = []
    if (api_version, kind) in K8S_FILES:
        validator = _k8s_validator(api_version, kind)
    else:
        group, _, version = api_version.partition("/")
        if (group, kind) not in CRD_FILES:
            raise KeyError(f"no published schema for {api_version} {kind}")
        validator = _crd_validator(group, kind, version, strict)
        errors += _object_meta_validator().iter_errors(obj.get("metadata") or {})
    errors += validator.iter_errors(obj)
    error = jsonschema.exceptions.best_match(errors)
    if error is not None:
        raise error


def validate_all(objects: list[dict], strict: bool = True) -> None:
    for obj in objects:
        validate(obj, strict)
