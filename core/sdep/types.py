"""Typed model of a SeldonDeployment (machinelearning.seldon.io v1, v1alpha2, v1alpha3 share one schema).

Seldon's own types are dataclasses; the Kubernetes types they embed (PodSpec, ObjectMeta, resources, HPA
metrics, KEDA triggers) stay plain dicts, already checked against the CRD schema by `structure`. Unset fields
are None and are left out of `to_dict()`, so a document round-trips to the same JSON (same bytes for the
same input).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

API_GROUP = "machinelearning.seldon.io"
API_VERSIONS = ("v1", "v1alpha2", "v1alpha3")
KIND = "SeldonDeployment"


def _f(json_name: str | None = None, of: type | str | None = None, many: bool = False):
    """A model field: its JSON name (when it differs), its nested model class (or its name), whether a list."""
    return field(default=None, metadata={"json": json_name, "of": of, "many": many})


def _model(of: type | str) -> type:
    return globals()[of] if isinstance(of, str) else of


class Model:
    """Dict ⇄ dataclass codec shared by every SeldonDeployment type."""

    @classmethod
    def from_dict(cls, data: dict):
        kwargs = {}
        for spec in dataclasses.fields(cls):
            key = spec.metadata.get("json") or spec.name
            if key not in data or data[key] is None:
                continue
            value, of = data[key], spec.metadata.get("of")
            if of is not None:
                of = _model(of)
                value = [of.from_dict(v) for v in value] if spec.metadata.get("many") else of.from_dict(value)
            kwargs[spec.name] = value
        return cls(**kwargs)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if value is None:
                continue
            if spec.metadata.get("of") is not None:
                value = [v.to_dict() for v in value] if spec.metadata.get("many") else value.to_dict()
            out[spec.metadata.get("json") or spec.name] = value
        return out


@dataclass
class Parameter(Model):
    name: str | None = _f()
    value: str | None = _f()
    type: str | None = _f()


@dataclass
class Endpoint(Model):
    service_host: str | None = _f()
    service_port: int | None = _f()
    type: str | None = _f()
    http_port: int | None = _f("httpPort")
    grpc_port: int | None = _f("grpcPort")


@dataclass
class Logger(Model):
    url: str | None = _f()
    mode: str | None = _f()


@dataclass
class PredictiveUnit(Model):
    name: str | None = _f()
    children: list[PredictiveUnit] | None = _f(of="PredictiveUnit", many=True)
    type: str | None = _f()
    implementation: str | None = _f()
    methods: list[str] | None = _f()
    endpoint: Endpoint | None = _f(of=Endpoint)
    parameters: list[Parameter] | None = _f(of=Parameter, many=True)
    model_uri: str | None = _f("modelUri")
    service_account_name: str | None = _f("serviceAccountName")
    env_secret_ref_name: str | None = _f("envSecretRefName")
    storage_initializer_image: str | None = _f("storageInitializerImage")
    logger: Logger | None = _f(of=Logger)

    def walk(self) -> list[PredictiveUnit]:
        """This node and all below it, pre-order (the order the original visits the graph)."""
        nodes = [self]
        for child in self.children or ():
            nodes.extend(child.walk())
        return nodes


@dataclass
class HpaSpec(Model):
    min_replicas: int | None = _f("minReplicas")
    max_replicas: int | None = _f("maxReplicas")
    metrics: list[dict] | None = _f()
    metricsv2: list[dict] | None = _f()


@dataclass
class PdbSpec(Model):
    min_available: int | str | None = _f("minAvailable")
    max_unavailable: int | str | None = _f("maxUnavailable")


@dataclass
class SeldonPodSpec(Model):
    metadata: dict | None = _f()
    spec: dict | None = _f()
    hpa_spec: HpaSpec | None = _f("hpaSpec", of=HpaSpec)
    replicas: int | None = _f()
    keda_spec: dict | None = _f("kedaSpec")
    pdb_spec: PdbSpec | None = _f("pdbSpec", of=PdbSpec)

    @property
    def containers(self) -> list[dict]:
        """The pod's containers (the live list: defaulting edits it in place on its own copy)."""
        if self.spec is None:
            self.spec = {}
        return self.spec.setdefault("containers", [])


@dataclass
class SvcOrchSpec(Model):
    resources: dict | None = _f()
    env: list[dict] | None = _f()
    replicas: int | None = _f()


@dataclass
class SSL(Model):
    cert_secret_name: str | None = _f("certSecretName")


@dataclass
class Explainer(Model):
    type: str | None = _f()
    model_uri: str | None = _f("modelUri")
    service_account_name: str | None = _f("serviceAccountName")
    container_spec: dict | None = _f("containerSpec")
    config: dict | None = _f()
    endpoint: Endpoint | None = _f(of=Endpoint)
    env_secret_ref_name: str | None = _f("envSecretRefName")
    storage_initializer_image: str | None = _f("storageInitializerImage")
    replicas: int | None = _f()
    init_parameters: str | None = _f("initParameters")


@dataclass
class PredictorSpec(Model):
    name: str | None = _f()
    graph: PredictiveUnit | None = _f(of=PredictiveUnit)
    component_specs: list[SeldonPodSpec] | None = _f("componentSpecs", of=SeldonPodSpec, many=True)
    replicas: int | None = _f()
    annotations: dict | None = _f()
    engine_resources: dict | None = _f("engineResources")
    labels: dict | None = _f()
    svc_orch_spec: SvcOrchSpec | None = _f("svcOrchSpec", of=SvcOrchSpec)
    traffic: int | None = _f()
    explainer: Explainer | None = _f(of=Explainer)
    shadow: bool | None = _f()
    ssl: SSL | None = _f(of=SSL)
    progress_deadline_seconds: int | None = _f("progressDeadlineSeconds")

    def annotation(self, key: str, default: str | None = None) -> str | None:
        return (self.annotations or {}).get(key, default)

    def units(self) -> list[PredictiveUnit]:
        return self.graph.walk() if self.graph else []

    def has_explainer(self) -> bool:
        """An explainer is deployed only when its `type` is set."""
        return self.explainer is not None and bool(self.explainer.type)


@dataclass
class SeldonDeploymentSpec(Model):
    name: str | None = _f()
    predictors: list[PredictorSpec] | None = _f(of=PredictorSpec, many=True)
    oauth_key: str | None = _f()
    oauth_secret: str | None = _f()
    annotations: dict | None = _f()
    protocol: str | None = _f()
    transport: str | None = _f()
    replicas: int | None = _f()
    server_type: str | None = _f("serverType")


@dataclass
class SeldonDeployment(Model):
    api_version: str | None = _f("apiVersion")
    kind: str | None = _f()
    metadata: dict | None = _f()
    spec: SeldonDeploymentSpec | None = _f(of=SeldonDeploymentSpec)
    status: dict | None = _f()

    @property
    def name(self) -> str:
        return (self.metadata or {}).get("name") or ""

    @property
    def namespace(self) -> str:
        return (self.metadata or {}).get("namespace") or ""

    @property
    def predictors(self) -> list[PredictorSpec]:
        return (self.spec.predictors if self.spec else None) or []

    def annotation(self, key: str, default: str | None = None) -> str | None:
        """A config annotation as the original reads it: spec.annotations first, then metadata.annotations.

        metadata is not schema-checked, so a YAML number or boolean there is read as its text.
        """
        for source in ((self.spec.annotations if self.spec else None), (self.metadata or {}).get("annotations")):
            if source and key in source:
                return str(source[key])
        return default

    def spec_annotation(self, key: str, default: str | None = None) -> str | None:
        return ((self.spec.annotations if self.spec else None) or {}).get(key, default)

    def owner_reference(self) -> dict:
        """The controller ownerReference to this SeldonDeployment (its uid included when it was read from a cluster)."""
        reference: dict[str, Any] = {
            "apiVersion": self.api_version or f"{API_GROUP}/v1",
            "kind": KIND,
            "name": self.name,
        }
        uid = (self.metadata or {}).get("uid")
        if uid:
            reference["uid"] = uid
        reference.update(controller=True, blockOwnerDeletion=True)
        return reference
