"""The explainer of a predictor (`predictor.explainer`): its own Deployment and Service `<sdep>-<p>-explainer`.

v1 explainers (seldon/tensorflow protocol) run the alibi-explain server with the original's command line,
pointed at the predictor Service; v2/kfserving explainers run MLServer's alibi-explain runtime.
"""

from __future__ import annotations

import copy
import json

from seldon_graph import naming
from seldon_graph.operator.render.containers import PRESTOP, compact_json, named_port, set_env
from seldon_graph.operator.render.errors import RenderError
from seldon_graph.operator.render.meta import (
    MANAGED_BY,
    SDEP_ID_LABEL,
    SELDON_APP_LABEL,
    object_meta,
    predictor_service,
    seldon_id,
    sorted_map,
)
from seldon_graph.operator.render.pods import pod_defaults
from seldon_graph.operator.render.prepack import MODEL_PATH, add_storage_initializer
from seldon_graph.operator.render.settings import OperatorSettings
from seldon_graph.sdep import Explainer, PredictiveUnit, PredictorSpec, SeldonDeployment

EXPLAINER_LABEL = "seldon.io/explainer"
DEFAULT_PORT = 9000
V2_PROTOCOLS = ("v2", "kfserving")
ALIBI_EXPLAIN_TYPES = {
    "AnchorTabular": "anchor_tabular",
    "AnchorImages": "anchor_image",
    "AnchorText": "anchor_text",
    "Counterfactuals": "counterfactuals",
    "Contrastive": "contrastive",
    "KernelShap": "kernel_shap",
    "IntegratedGradients": "integrated_gradients",
    "ALE": "ALE",
    "TreeShap": "tree_shap",
}


def explainer_replicas(sdep: SeldonDeployment, predictor: PredictorSpec, explainer: Explainer) -> int | None:
    """0 when the predictor (or, without predictor replicas, the SDep) is scaled to 0; else its own replicas."""
    sdep_replicas = sdep.spec.replicas if sdep.spec else None
    if predictor.replicas == 0 or (predictor.replicas is None and sdep_replicas == 0):
        return 0
    return explainer.replicas


def explainer_type_tag(explainer_type: str) -> str:
    """MLServer alibi-explain's name for an explainer type; an unknown type is a RenderError."""
    try:
        return ALIBI_EXPLAIN_TYPES[explainer_type]
    except KeyError:
        known = ", ".join(ALIBI_EXPLAIN_TYPES)
        raise RenderError(
            f"explainer type {explainer_type!r} is not supported by the v2 explainer runtime (use one of {known})"
        ) from None


def mlserver_model_extra(type_tag: str, infer_uri: str, init_parameters: str | None) -> str:
    """MLSERVER_MODEL_EXTRA: the alibi-explain settings, `initParameters` (JSON text) embedded as written.

    The original splices the text in as the value of `init_parameters`, so MLServer reads an object; text that
    is not JSON would make the whole variable unreadable, so it is a RenderError here.
    """
    head = compact_json({"explainer_type": type_tag, "infer_uri": infer_uri})
    if not init_parameters:
        return head
    try:
        json.loads(init_parameters)
    except ValueError as exc:
        raise RenderError(f"explainer.initParameters is not JSON: {exc}") from None
    return f'{head[:-1]},"init_parameters":{init_parameters}}}'


def _probe(initial_delay: int, failures: int) -> dict:
    return {
        "tcpSocket": {"port": "http"},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": 5,
        "successThreshold": 1,
        "failureThreshold": failures,
        "timeoutSeconds": 1,
    }


def explainer_objects(sdep: SeldonDeployment, predictor: PredictorSpec, settings: OperatorSettings) -> list[dict]:
    """[Deployment, Service] of the predictor's explainer, or [] when it has none."""
    explainer = predictor.explainer
    explainer_type = explainer.type if explainer else None
    if explainer is None or not explainer_type:  # an explainer is deployed only when its type is set
        return []
    name = naming.explainer_name(sdep.name, predictor.name or "")
    protocol = (sdep.spec.protocol if sdep.spec else None) or "seldon"
    service = predictor_service(sdep, predictor)
    port = (explainer.endpoint.service_port if explainer.endpoint else None) or DEFAULT_PORT
    container = copy.deepcopy(explainer.container_spec or {})
    container["name"] = container.get("name") or name
    container.setdefault("imagePullPolicy", "IfNotPresent")
    if not container.get("image"):
        container["image"] = settings.explainer_image_v2 if protocol in V2_PROTOCOLS else settings.explainer_image
    if named_port(container, "http") is None:
        container.setdefault("ports", []).append({"name": "http", "containerPort": port, "protocol": "TCP"})
    container.setdefault("livenessProbe", _probe(60, 5))
    container.setdefault("readinessProbe", _probe(20, 7))
    container.setdefault("lifecycle", copy.deepcopy(PRESTOP))
    graph_name = predictor.graph.name if predictor.graph else ""
    host = f"{service}.{sdep.namespace}:{settings.service_http_port}"
    if protocol in V2_PROTOCOLS:
        try:
            extra = mlserver_model_extra(
                explainer_type_tag(explainer_type),
                f"http://{host}/v2/models/{graph_name}/infer",
                explainer.init_parameters,
            )
        except RenderError as exc:
            raise RenderError(f"predictor {predictor.name!r}: {exc}") from None
        for key, value in (
            ("MLSERVER_HTTP_PORT", str(port)),
            ("MLSERVER_MODEL_IMPLEMENTATION", "mlserver_alibi_explain.AlibiExplainRuntime"),
            ("MLSERVER_MODEL_NAME", container["name"]),
            ("MLSERVER_MODEL_URI", MODEL_PATH),
            ("MLSERVER_MODEL_EXTRA", extra),
        ):
            set_env(container, key, value)
    elif "args" not in container:
        transport = "grpc" if sdep.spec and sdep.spec.transport == "grpc" else "http"
        args = [
            f"--model_name={graph_name}",
            f"--predictor_host={host}",
            f"--protocol={'tensorflow' if protocol == 'tensorflow' else 'seldon'}.{transport}",
            f"--http_port={port}",
        ]
        if explainer.model_uri:
            args.append(f"--storage_uri={MODEL_PATH}")
        args.append(explainer_type)
        if explainer_type == "AnchorImages":
            args.append("--tf_data_type=float32")
        args += [f"--{key}={value}" for key, value in sorted((explainer.config or {}).items())]
        container["args"] = args
    pod: dict = {"containers": [container]}
    if explainer.service_account_name:
        pod["serviceAccountName"] = explainer.service_account_name
    if explainer.model_uri:
        unit = PredictiveUnit(
            name=container["name"],
            model_uri=explainer.model_uri,
            env_secret_ref_name=explainer.env_secret_ref_name,
            storage_initializer_image=explainer.storage_initializer_image,
        )
        add_storage_initializer(pod, container, unit, settings)
    pod_defaults(pod, settings)
    sid = seldon_id(sdep)
    labels = {
        SDEP_ID_LABEL: sid,
        "app": name,
        "fluentd": "true",
        **(predictor.labels or {}),
        **MANAGED_BY,
        EXPLAINER_LABEL: "true",
        SELDON_APP_LABEL: name,
    }
    spec: dict = {"selector": {"matchLabels": {"app": name, SDEP_ID_LABEL: sid}}}
    replicas = explainer_replicas(sdep, predictor, explainer)
    if replicas is not None:
        spec["replicas"] = replicas
    spec["template"] = {"metadata": {"labels": sorted_map(labels)}, "spec": pod}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": object_meta(sdep, name, labels, predictor.annotations),
        "spec": spec,
    }
    service_labels = {SELDON_APP_LABEL: service, SDEP_ID_LABEL: sid, EXPLAINER_LABEL: "true", **MANAGED_BY}
    service_object = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(sdep, name, service_labels, predictor.annotations),
        "spec": {
            "type": "ClusterIP",
            "sessionAffinity": "None",
            "selector": {SELDON_APP_LABEL: name},
            "ports": [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}],
        },
    }
    return [deployment, service_object]
