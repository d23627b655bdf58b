"""Validation of a SeldonDeployment: every rule of the original's admission webhook, plus object-name checks.

`validate` returns one message per problem, `<field path>: Invalid value: <value>: <detail>`, in the
original's rule order (empty = valid). It sees the object as written (not defaulted), like the webhook.
Where the original has a documented defect we do what the user meant (see docs/compatibility.md): exact
field paths instead of `spec`, `seldon.io/no-engine` checked by value like the controller, the
single-predictor traffic rule counting only non-shadow predictors, and names Kubernetes would reject
reported here instead of failing later at apply time.
"""

from __future__ import annotations

import json
import re

from seldon_graph import naming
from seldon_graph.labels import NO_ENGINE_ANNOTATION, SVC_NAME_ANNOTATION
from seldon_graph.sdep import prepack
from seldon_graph.sdep.settings import SdepSettings, resolve
from seldon_graph.sdep.types import PredictiveUnit, PredictorSpec, SeldonDeployment, SeldonDeploymentSpec

PROTOCOLS = ("seldon", "tensorflow", "kfserving", "v2")
TRANSPORTS = ("rest", "grpc")
SERVER_TYPES = ("rpc", "kafka")
KAFKA_ENV = ("KAFKA_BROKER", "KAFKA_INPUT_TOPIC", "KAFKA_OUTPUT_TOPIC")
TENSORFLOW_INCAPABLE = ("SKLEARN_SERVER", "XGBOOST_SERVER", "MLFLOW_SERVER", "HUGGINGFACE_SERVER")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def invalid(path: str, value, detail: str) -> str:
    """One cause in the Kubernetes field-error form: `<path>: Invalid value: <value>: <detail>`."""
    return f"{path}: Invalid value: {json.dumps(value)}: {detail}"


def no_engine(predictor: PredictorSpec) -> bool:
    """`seldon.io/no-engine: "true"` (any case) on the predictor: the single model is served directly."""
    return (predictor.annotation(NO_ENGINE_ANNOTATION) or "").lower() == "true"


def validate(sdep: SeldonDeployment, settings: SdepSettings | None = None) -> list[str]:
    """Every problem of `sdep`, each naming its field path; an empty list means valid."""
    settings = resolve(settings)
    spec = sdep.spec
    errors: list[str] = []
    if spec is None:
        return ["spec: Required value"]
    if spec.protocol and spec.protocol not in PROTOCOLS:
        errors.append(invalid("spec.protocol", spec.protocol, f"Invalid protocol (use one of {', '.join(PROTOCOLS)})"))
    if spec.transport and spec.transport not in TRANSPORTS:
        errors.append(invalid("spec.transport", spec.transport, "Invalid transport (use rest or grpc)"))
    if spec.server_type and spec.server_type not in SERVER_TYPES:
        errors.append(invalid("spec.serverType", spec.server_type, "Invalid serverType (use rpc or kafka)"))
    predictors = sdep.predictors
    if spec.server_type == "kafka":
        errors += _kafka_errors(predictors)
    errors += _shadow_only_errors(predictors)
    errors += _svc_name_errors(predictors)
    if not predictors:
        errors.append(invalid("spec.predictors", [], "Graph contains no predictors"))
    seen: set[str] = set()
    for index, predictor in enumerate(predictors):
        errors += _predictor_errors(sdep, predictor, f"spec.predictors[{index}]", seen, settings)
        seen.add(predictor.name or "")
    errors += _endpoint_type_errors(predictors, spec.transport)
    errors += _traffic_errors(predictors)
    errors += _name_errors(sdep)
    return errors


def validate_predictor(
    predictor: PredictorSpec, settings: SdepSettings | None = None, protocol: str | None = None, path: str = "predictor"
) -> list[str]:
    """The per-predictor rules (graph, containers, prepack, logger) for a lone predictor (the engine's)."""
    sdep = SeldonDeployment(spec=SeldonDeploymentSpec(protocol=protocol, predictors=[predictor]))
    return _predictor_errors(sdep, predictor, path, set(), resolve(settings))


def _kafka_errors(predictors: list[PredictorSpec]) -> list[str]:
    errors = []
    for index, predictor in enumerate(predictors):
        env = (predictor.svc_orch_spec.env if predictor.svc_orch_spec else None) or []
        if sum(1 for var in env if var.get("name") in KAFKA_ENV) < len(KAFKA_ENV):
            errors.append(
                invalid(
                    f"spec.predictors[{index}].svcOrchSpec.env",
                    predictor.name,
                    "For kafka please supply svcOrchSpec envs KAFKA_BROKER, KAFKA_INPUT_TOPIC, KAFKA_OUTPUT_TOPIC",
                )
            )
    return errors


def _shadow_only_errors(predictors: list[PredictorSpec]) -> list[str]:
    if len(predictors) == 1 and predictors[0].shadow:
        return [invalid("spec.predictors[0].shadow", predictors[0].name, "Shadow can not exist as only predictor")]
    return []


def _svc_name_errors(predictors: list[PredictorSpec]) -> list[str]:
    errors, seen = [], set()
    for index, predictor in enumerate(predictors):
        name = predictor.annotation(SVC_NAME_ANNOTATION)
        if not name:
            continue
        if name in seen:
            errors.append(
                invalid(
                    f"spec.predictors[{index}].annotations[{SVC_NAME_ANNOTATION}]",
                    predictor.name,
                    f"Found duplicate service name in seldon.io/svc-name with value {name}",
                )
            )
        seen.add(name)
    return errors


def _predictor_errors(
    sdep: SeldonDeployment, predictor: PredictorSpec, path: str, seen: set[str], settings: SdepSettings
) -> list[str]:
    errors = []
    if predictor.graph is None:
        return [f"{path}.graph: Required value: a predictor needs a graph"]
    if no_engine(predictor) and len(predictor.units()) > 1:
        errors.append(
            invalid(
                f"{path}.annotations[{NO_ENGINE_ANNOTATION}]",
                predictor.name,
                "Running without engine only valid for single element graphs",
            )
        )
    if (predictor.name or "") in seen:
        errors.append(invalid(f"{path}.name", predictor.name, "Duplicate predictor name"))
    containers = _containers_by_name(predictor)
    protocol = sdep.spec.protocol if sdep.spec else None
    errors += _unit_errors(predictor.graph, f"{path}.graph", containers, protocol, settings)
    return errors


def _containers_by_name(predictor: PredictorSpec) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for component in predictor.component_specs or ():
        for container in (component.spec or {}).get("containers") or ():
            found.setdefault(container.get("name") or "", container)
    return found


def _unit_errors(
    unit: PredictiveUnit, path: str, containers: dict[str, dict], protocol: str | None, settings: SdepSettings
) -> list[str]:
    errors = []
    name = unit.name or ""
    implementation = unit.implementation
    if implementation in (None, "UNKNOWN_IMPLEMENTATION"):
        if name not in containers:
            errors.append(invalid(path, name, "Can't find container for Predictive Unit"))
        if unit.type == "UNKNOWN_TYPE" and not unit.methods:
            errors.append(
                invalid(
                    path,
                    name,
                    "Predictive Unit has no implementation methods defined. Change to a "
                    "known type or add what methods it defines",
                )
            )
    elif prepack.is_prepack(implementation):
        if not unit.model_uri and implementation != "HUGGINGFACE_SERVER":
            errors.append(invalid(path, name, "Predictive unit modelUri required when using standalone servers"))
        if protocol == "tensorflow" and implementation in TENSORFLOW_INCAPABLE:
            errors.append(
                invalid(path, name, f"Prepackaged server does not handle tensorflow protocol {implementation}")
            )
        container = containers.get(name)
        if (container is None or not container.get("image")) and implementation not in settings.predictor_servers:
            errors.append(invalid(path, name, f"No entry in predictors map for {implementation}"))
    if unit.logger is not None and not unit.logger.mode:
        errors.append(invalid(f"{path}.logger.mode", "", "No logger mode specified (use all, request or response)"))
    for index, child in enumerate(unit.children or ()):
        errors += _unit_errors(child, f"{path}.children[{index}]", containers, protocol, settings)
    return errors


def _endpoint_type_errors(predictors: list[PredictorSpec], transport: str | None) -> list[str]:
    types = {u.endpoint.type for p in predictors for u in p.units() if u.endpoint and u.endpoint.type}
    if len(types) > 1:
        return [
            invalid(
                "spec", "", "Multiple endpoint.types found - can only have 1 type in graph. Please use spec.transport"
            )
        ]
    if len(types) == 1 and transport:
        (endpoint_type,) = types
        if (endpoint_type == "REST" and transport == "grpc") or (endpoint_type == "GRPC" and transport == "rest"):
            return [
                invalid(
                    "spec.transport",
                    transport,
                    "Mixed transport types found. Remove graph endpoint.types if transport set at deployment level",
                )
            ]
    return []


def _traffic_errors(predictors: list[PredictorSpec]) -> list[str]:
    errors = []
    shadows = [(i, p) for i, p in enumerate(predictors) if p.shadow]
    for index, predictor in shadows[1:]:
        errors.append(invalid(f"spec.predictors[{index}].shadow", predictor.name, "Multiple shadows are not allowed"))
    for index, predictor in shadows:
        if not 0 <= (predictor.traffic or 0) <= 100:
            errors.append(
                invalid(
                    f"spec.predictors[{index}].traffic",
                    predictor.traffic,
                    "shadow traffic is illegal, the traffic number should be between [0, 100]",
                )
            )
    main = [p for p in predictors if not p.shadow]
    total = sum(p.traffic or 0 for p in main)
    if len(main) > 1 and total != 100:
        errors.append(invalid("spec.predictors", total, "Traffic must sum to 100 for multiple predictors"))
    if len(main) == 1 and 0 < total < 100:
        errors.append(invalid("spec.predictors", total, "Traffic must be 100 for a single predictor when set"))
    return errors


def _name_errors(sdep: SeldonDeployment) -> list[str]:
    """Names that would make Kubernetes reject a rendered object (the original fails later, at apply time)."""
    errors = []
    sdep_name = sdep.name
    if not sdep_name:
        return ["metadata.name: Required value: every object name is derived from it"]
    if not DNS1123_SUBDOMAIN.match(sdep_name):
        return [invalid("metadata.name", sdep_name, "must be a lowercase RFC 1123 subdomain")]
    for index, predictor in enumerate(sdep.predictors):
        path = f"spec.predictors[{index}]"
        if predictor.name is not None and not DNS1123_LABEL.match(predictor.name or ""):
            errors.append(
                invalid(
                    f"{path}.name",
                    predictor.name,
                    "must be a lowercase RFC 1123 label (a-z, 0-9, '-'): it is part of object names",
                )
            )
            continue
        service = naming.predictor_service_name(sdep_name, predictor.to_dict())
        if not DNS1035_LABEL.match(service):
            where = (
                f"{path}.annotations[{SVC_NAME_ANNOTATION}]"
                if predictor.annotation(SVC_NAME_ANNOTATION)
                else "metadata.name"
            )
            errors.append(
                invalid(
                    where,
                    service,
                    "the predictor Service name must be an RFC 1035 label (start with a letter; a-z, 0-9, '-')",
                )
            )
        for c_index, component in enumerate(predictor.component_specs or ()):
            for k, container in enumerate((component.spec or {}).get("containers") or ()):
                name = container.get("name") or ""
                if not DNS1123_LABEL.match(name):
                    errors.append(
                        invalid(
                            f"{path}.componentSpecs[{c_index}].spec.containers[{k}].name",
                            name,
                            "must be a lowercase RFC 1123 label",
                        )
                    )
    return errors
