"""Desired state: every Kubernetes object one SeldonDeployment asks for, in a fixed order.

Pure: the same SeldonDeployment and settings give the same objects (same bytes once serialised). The
SeldonDeployment is validated (an invalid one is a RenderError listing every problem) and defaulted here
(defaulting is idempotent, so an already defaulted one is fine); the
result is Deployments, Services, HPAs, KEDA ScaledObjects, PDBs, then the ingress objects of the enabled
ingress (Ambassador Mappings, Istio VirtualService + DestinationRules).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seldon_graph import ambassador, istio
from seldon_graph.operator.render_engine import add_engine, svc_orch_deployment
from seldon_graph.operator.render_errors import RenderError
from seldon_graph.operator.render_explainer import explainer_objects
from seldon_graph.operator.render_meta import SELDON_APP_LABEL, predictor_service, sorted_map
from seldon_graph.operator.render_pods import autoscaler, graph_unit, model_deployment
from seldon_graph.operator.render_prepack import add_model_servers
from seldon_graph.operator.render_scaling import hpa, pdb, scaled_object
from seldon_graph.operator.render_security import add_certificates
from seldon_graph.operator.render_services import container_service, predictor_service_object
from seldon_graph.operator.settings import OperatorSettings
from seldon_graph.sdep import (
    PredictorSpec,
    SdepError,
    SeldonDeployment,
    default,
    no_engine,
    parse,
    separate_engine,
    validate,
)

__all__ = ["RenderError", "desired_state"]


@dataclass
class _Objects:
    deployments: list[dict] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)
    hpas: list[dict] = field(default_factory=list)
    scaled_objects: list[dict] = field(default_factory=list)
    pdbs: list[dict] = field(default_factory=list)

    def all(self) -> list[dict]:
        return self.deployments + self.services + self.hpas + self.scaled_objects + self.pdbs


def desired_state(sdep: SeldonDeployment | dict | str, settings: OperatorSettings | None = None) -> list[dict]:
    """Every object for `sdep`; raises RenderError when it cannot be rendered (the message says why)."""
    settings = settings or OperatorSettings()
    if not isinstance(sdep, SeldonDeployment):
        try:
            sdep = parse(sdep)
        except SdepError as exc:
            raise RenderError(str(exc)) from None
    problems = validate(sdep, settings.sdep)
    if problems:
        raise RenderError("; ".join(problems))
    sdep = default(sdep, settings.sdep)
    try:
        service_annotations = (
            ambassador.service_annotations(sdep, settings.ambassador) if settings.ambassador.enabled else {}
        )
        ingress = ambassador.render(sdep, settings.ambassador) if settings.ambassador.enabled else []
        ingress += istio.render(sdep, settings.istio) if settings.istio.enabled else []
    except (ambassador.AmbassadorConfigError, istio.IstioConfigError) as exc:
        raise RenderError(str(exc)) from None
    objects = _Objects()
    for predictor in sdep.predictors:
        _predictor_objects(sdep, predictor, settings, objects, service_annotations)
    return objects.all() + ingress


def _predictor_objects(
    sdep: SeldonDeployment,
    predictor: PredictorSpec,
    settings: OperatorSettings,
    objects: _Objects,
    service_annotations: dict,
) -> None:
    engine_free = no_engine(predictor)
    svc_orch = svc_orch_deployment(sdep, predictor, settings) if separate_engine(sdep) and not engine_free else None
    if svc_orch is not None:
        objects.deployments.append(svc_orch)
    deployments = []
    for index, component in enumerate(predictor.component_specs or ()):
        if not (component.spec or {}).get("containers"):
            continue
        deployment = model_deployment(sdep, predictor, index, component, settings)
        name = deployment["metadata"]["name"]
        deployments.append(deployment)
        scaler = autoscaler(component, settings)
        if scaler == "keda":
            objects.scaled_objects.append(scaled_object(sdep, component, name))
        elif scaler == "hpa":
            objects.hpas.append(hpa(sdep, component, name))
        if component.pdb_spec is not None:
            objects.pdbs.append(pdb(sdep, component, name))
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            unit = graph_unit(predictor, container.get("name") or "")
            if unit is not None:
                objects.services.append(container_service(sdep, predictor, unit))
    add_model_servers(sdep, predictor, deployments, settings)
    extra = service_annotations.get(predictor_service(sdep, predictor), {})
    if engine_free:
        model = predictor.graph
        _label_entrypoint(_holder(deployments, model.name, predictor), predictor_service(sdep, predictor))
        objects.services.append(predictor_service_object(sdep, predictor, settings, model, extra))
    else:
        if svc_orch is None:
            add_engine(_engine_holder(deployments, predictor), sdep, predictor, settings)
        objects.services.append(predictor_service_object(sdep, predictor, settings, None, extra))
    if predictor.ssl and predictor.ssl.cert_secret_name:
        target = svc_orch or _holder(deployments, predictor.graph.name, predictor)
        add_certificates(target, predictor.ssl.cert_secret_name, settings.cert_mount_path)
    objects.deployments.extend(deployments)
    explainer = explainer_objects(sdep, predictor, settings)
    if explainer:
        deployment, service = explainer
        extra = service_annotations.get(service["metadata"]["name"])
        if extra:
            service["metadata"]["annotations"] = sorted_map({**extra, **service["metadata"].get("annotations", {})})
        objects.deployments.append(deployment)
        objects.services.append(service)


def _with_container(deployments: list[dict], container_name: str | None) -> dict | None:
    """The first Deployment whose pod has a container named `container_name`."""
    return next(
        (
            deployment
            for deployment in deployments
            if any(c.get("name") == container_name for c in deployment["spec"]["template"]["spec"]["containers"])
        ),
        None,
    )


def _holder(deployments: list[dict], container_name: str | None, predictor: PredictorSpec) -> dict:
    deployment = _with_container(deployments, container_name)
    if deployment is not None:
        return deployment
    raise RenderError(
        f"predictor {predictor.name!r}: no componentSpec has a container named {container_name!r} for its graph root"
    )


def _engine_holder(deployments: list[dict], predictor: PredictorSpec) -> dict:
    """The Deployment of the first (pre-order) unit served on localhost: where the original injects the engine."""
    local = next((u for u in predictor.units() if u.endpoint and u.endpoint.service_host == "localhost"), None)
    if local is None:
        raise RenderError(
            f"predictor {predictor.name!r}: engine not separate and no unit with a localhost service "
            "- not clear where to inject the engine"
        )
    deployment = _with_container(deployments, local.name)
    if deployment is not None:
        return deployment
    raise RenderError(f"predictor {predictor.name!r}: no deployment for unit {local.name!r} with a localhost service")


def _label_entrypoint(deployment: dict, service: str) -> None:
    """A no-engine model Deployment carries `seldon-app` so the predictor Service reaches the model directly."""
    for labels in (
        deployment["metadata"]["labels"],
        deployment["spec"]["selector"]["matchLabels"],
        deployment["spec"]["template"]["metadata"]["labels"],
    ):
        labels[SELDON_APP_LABEL] = service
    deployment["metadata"]["labels"] = sorted_map(deployment["metadata"]["labels"])
    deployment["spec"]["selector"]["matchLabels"] = sorted_map(deployment["spec"]["selector"]["matchLabels"])
    template = deployment["spec"]["template"]["metadata"]
    template["labels"] = sorted_map(template["labels"])
