"""Defaulting of a SeldonDeployment, as the original operator does in memory before every reconcile.

Pure: returns a defaulted copy. Port numbers are handed out per container *name* across the whole
SeldonDeployment (the same name in two predictors shares its http/grpc ports), metrics ports per container
instance; node types, endpoint hosts/ports, the `version` label and prepack server containers are filled in.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from seldon_graph.labels import SEPARATE_ENGINE_ANNOTATION
from seldon_graph.naming import container_service_name
from seldon_graph.sdep import prepack
from seldon_graph.sdep.settings import SdepSettings, resolve
from seldon_graph.sdep.types import Endpoint, PredictiveUnit, PredictorSpec, SeldonDeployment, SeldonPodSpec

PODINFO_VOLUME = "seldon-podinfo"
LEGACY_PODINFO_VOLUME = "podinfo"
PODINFO_PATH = "/etc/podinfo"


@dataclass
class _Ports:
    """The SDep-global port counters and the name → port maps."""

    next_http: int
    next_grpc: int
    next_metrics: int
    http: dict[str, int] = field(default_factory=dict)
    grpc: dict[str, int] = field(default_factory=dict)

    def allocate(self, name: str) -> None:
        if name not in self.http:
            self.http[name], self.grpc[name] = self.next_http, self.next_grpc
            self.next_http += 1
            self.next_grpc += 1

    def take_metrics(self) -> int:
        self.next_metrics += 1
        return self.next_metrics - 1


def separate_engine(sdep: SeldonDeployment) -> bool:
    """`seldon.io/engine-separate-pod: "true"` (any case): the engine runs in its own pod.

    Read from spec.annotations, then metadata.annotations as the original's documentation says (its code only
    read spec.annotations).
    """
    return (sdep.annotation(SEPARATE_ENGINE_ANNOTATION) or "").lower() == "true"


def uses_grpc(sdep: SeldonDeployment, unit: PredictiveUnit) -> bool:
    """Whether a unit is served over gRPC: its endpoint type GRPC or spec.transport grpc."""
    endpoint_type = unit.endpoint.type if unit.endpoint else None
    return endpoint_type == "GRPC" or (sdep.spec.transport if sdep.spec else None) == "grpc"


def default(sdep: SeldonDeployment, settings: SdepSettings | None = None) -> SeldonDeployment:
    """A defaulted copy of `sdep` (namespace, labels, node types, ports, endpoints, prepack containers).

    `settings` may also be the operator's settings (anything with an `.sdep`).
    """
    settings = resolve(settings)
    sdep = copy.deepcopy(sdep)
    sdep.metadata = sdep.metadata or {}
    if not sdep.metadata.get("namespace"):
        sdep.metadata["namespace"] = settings.default_namespace
    ports = _Ports(settings.http_port, settings.grpc_port, settings.metrics_port)
    for predictor in sdep.predictors:
        predictor.labels = predictor.labels or {}
        predictor.labels.setdefault("version", predictor.name or "")
        for unit in predictor.units():
            _default_node_type(unit)
        _default_containers(sdep, predictor, ports, settings)
        _default_prepack_containers(sdep, predictor, ports, settings)
    return sdep


def default_graph(predictor: PredictorSpec) -> PredictorSpec:
    """A copy of `predictor` with its node types and implementations defaulted (what the engine walks).

    A unit with none of type, methods and implementation is a MODEL, a prepackaged server is a MODEL, an unset
    implementation is UNKNOWN_IMPLEMENTATION; any other unset type stays unset, as the original leaves it.
    """
    predictor = copy.deepcopy(predictor)
    for unit in predictor.units():
        _default_node_type(unit)
    return predictor


def _default_node_type(unit: PredictiveUnit) -> None:
    if unit.type is None and unit.methods is None and unit.implementation is None:
        unit.type = "MODEL"
    if unit.implementation is None:
        unit.implementation = "UNKNOWN_IMPLEMENTATION"
    elif prepack.is_prepack(unit.implementation):
        unit.type = "MODEL"


def _find_unit(predictor: PredictorSpec, name: str) -> PredictiveUnit | None:
    return next((u for u in predictor.units() if u.name == name), None)


def _default_containers(
    sdep: SeldonDeployment, predictor: PredictorSpec, ports: _Ports, settings: SdepSettings
) -> None:
    for index, component in enumerate(predictor.component_specs or ()):
        for container in component.containers:
            name = container.get("name") or ""
            ports.allocate(name)
            unit = _find_unit(predictor, name)
            if unit is not None:
                _container_defaults(sdep, predictor, index, unit, container, ports, settings)


def _default_prepack_containers(
    sdep: SeldonDeployment, predictor: PredictorSpec, ports: _Ports, settings: SdepSettings
) -> None:
    for unit in predictor.units():
        if not prepack.is_prepack(unit.implementation):
            continue
        index, container = _find_container(predictor, unit.name or "")
        if container is None:
            container = {"name": unit.name or "", "volumeMounts": [{"name": PODINFO_VOLUME, "mountPath": PODINFO_PATH}]}
            if predictor.component_specs:
                predictor.component_specs[0].containers.append(container)
            else:
                predictor.component_specs = [SeldonPodSpec(spec={"containers": [container]})]
            index = 0
        ports.allocate(container["name"])
        _container_defaults(sdep, predictor, index, unit, container, ports, settings)
        protocol = sdep.spec.protocol if sdep.spec else None
        if protocol != "tensorflow" and not container.get("image"):
            image = prepack.image_name(settings.predictor_servers, unit.implementation, protocol)
            if image:
                container["image"] = image


def _find_container(predictor: PredictorSpec, name: str) -> tuple[int, dict | None]:
    for index, component in enumerate(predictor.component_specs or ()):
        for container in (component.spec or {}).get("containers") or ():
            if container.get("name") == name:
                return index, container
    return 0, None


def _named_port(container: dict, name: str) -> dict | None:
    return next((p for p in container.get("ports") or () if p.get("name") == name), None)


def _container_defaults(
    sdep: SeldonDeployment,
    predictor: PredictorSpec,
    index: int,
    unit: PredictiveUnit,
    container: dict,
    ports: _Ports,
    settings: SdepSettings,
) -> None:
    name = container.get("name") or ""
    container.setdefault("imagePullPolicy", "IfNotPresent")
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    unit.endpoint = unit.endpoint or Endpoint()
    http_port, grpc_port = ports.http[name], ports.grpc[name]
    if (existing := _named_port(container, "http")) is not None:
        http_port = existing.get("containerPort", http_port)
    if (existing := _named_port(container, "grpc")) is not None:
        grpc_port = existing.get("containerPort", grpc_port)
    mounts = [m for m in container.get("volumeMounts") or () if m.get("name") != LEGACY_PODINFO_VOLUME]
    if not any(m.get("name") == PODINFO_VOLUME for m in mounts):
        mounts.append({"name": PODINFO_VOLUME, "mountPath": PODINFO_PATH})
    container["volumeMounts"] = mounts
    if _named_port(container, settings.metrics_port_name) is None:
        container.setdefault("ports", []).append(
            {"name": settings.metrics_port_name, "containerPort": ports.take_metrics(), "protocol": "TCP"}
        )
    if index == 0 and not separate_engine(sdep):
        unit.endpoint.service_host = "localhost"
    else:
        service = container_service_name(sdep.name, predictor.name or "", name)
        unit.endpoint.service_host = f"{service}.{sdep.namespace}.svc.cluster.local"
    unit.endpoint.service_port = grpc_port if uses_grpc(sdep, unit) else http_port
    unit.endpoint.http_port = http_port
    unit.endpoint.grpc_port = grpc_port
