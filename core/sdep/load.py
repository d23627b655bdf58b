"""Load a SeldonDeployment (or a lone PredictorSpec) from YAML/JSON text or a dict into the typed model.

Everything the API server would reject or silently prune is an `SdepError` naming the field path, so a
misspelt field in a user's YAML is reported, never ignored.
"""

from __future__ import annotations

import copy

import yaml

from seldon_graph.sdep import structure
from seldon_graph.sdep.types import API_GROUP, API_VERSIONS, KIND, PredictorSpec, SeldonDeployment


class SdepError(ValueError):
    """A SeldonDeployment that cannot be loaded; `errors` holds one message per problem, each with its path."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = list(errors)


def yaml_documents(text: str | bytes) -> list:
    """The non-empty documents of YAML/JSON text (libyaml's loader when present); raises yaml.YAMLError."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]


def _document(obj: dict | str, what: str) -> dict:
    if isinstance(obj, (str, bytes)):
        try:
            docs = yaml_documents(obj)
        except yaml.YAMLError as exc:
            raise SdepError([f"not valid YAML or JSON: {exc}".replace("\n", " ")]) from None
        if len(docs) != 1:
            raise SdepError([f"expected exactly one {what} document, found {len(docs)}"])
        obj = docs[0]
    if not isinstance(obj, dict):
        raise SdepError([f"a {what} must be a mapping, got {type(obj).__name__}"])
    return copy.deepcopy(obj)


def _identity_errors(doc: dict) -> list[str]:
    errors = []
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    group, _, version = str(api_version or "").partition("/")
    if api_version is None:
        errors.append(f"apiVersion: required field is missing (use {API_GROUP}/v1)")
    elif group != API_GROUP or version not in API_VERSIONS:
        allowed = ", ".join(f"{API_GROUP}/{v}" for v in API_VERSIONS)
        errors.append(f"apiVersion: {api_version!r} is not one of {allowed}")
    if kind is None:
        errors.append(f"kind: required field is missing (use {KIND})")
    elif kind != KIND:
        errors.append(f"kind: {kind!r} is not {KIND}")
    return errors


def parse(obj: dict | str) -> SeldonDeployment:
    """A SeldonDeployment from YAML/JSON text or a dict; raises SdepError naming every bad field path."""
    doc = _document(obj, "SeldonDeployment")
    errors = _identity_errors(doc) + structure.check_document(doc)
    if "spec" not in doc and not any(e.startswith("spec") for e in errors):
        errors.append("spec: required field is missing")
    if errors:
        raise SdepError(errors)
    return SeldonDeployment.from_dict(doc)


def parse_predictor(obj: dict | str) -> PredictorSpec:
    """A lone PredictorSpec (the engine's ENGINE_PREDICTOR / --file) from YAML/JSON text or a dict."""
    doc = _document(obj, "PredictorSpec")
    errors = structure.check_predictor(doc)
    if errors:
        raise SdepError(errors)
    return PredictorSpec.from_dict(doc)
