"""Prepackaged model servers and the storage initializer, as the original operator adds them to a Deployment.

A unit with `modelUri` gets an init container `<container>-model-initializer` that downloads the model into an
emptyDir mounted read-only at /mnt/models. Prepack units are then shaped per server and protocol: the
Seldon-protocol servers get `model_uri` in their parameters, v2/kfserving ones become MLServer containers,
TENSORFLOW_SERVER is TF Serving itself (tensorflow protocol) or a proxy with a `tfserving` sidecar, and
TRITON_SERVER gets Triton's command line and HTTP health probes.
"""

from __future__ import annotations

from typing import Any

from seldon_graph.naming import MAX_NAME
from seldon_graph.operator.render.containers import compact_json, named_port, set_env
from seldon_graph.operator.render.pods import TFSERVING_CONTAINER
from seldon_graph.operator.render.settings import OperatorSettings
from seldon_graph.sdep import PredictiveUnit, PredictorSpec, SeldonDeployment, is_prepack
from seldon_graph.sdep.prepack import image_name

MODEL_PATH = "/mnt/models"
NO_STORAGE_INITIALIZER = "seldon.io/no-storage-initializer"
TFSERVING_GRPC_PORT, TFSERVING_HTTP_PORT = 2000, 2001
MLSERVER_IMPLEMENTATIONS = {
    "SKLEARN_SERVER": "mlserver_sklearn.SKLearnModel",
    "XGBOOST_SERVER": "mlserver_xgboost.XGBoostModel",
    "TEMPO_SERVER": "tempo.mlserver.InferenceRuntime",
    "MLFLOW_SERVER": "mlserver_mlflow.MLflowRuntime",
    "HUGGINGFACE_SERVER": "mlserver_huggingface.HuggingFaceRuntime",
}
TRITON_PARAMETERS = {
    "model_control_mode": "--model-control-mode=",
    "load_model": "--load-model=",
    "strict_model_config": "--strict-model-config=",
}


def _cut(name: str) -> str:
    """Cut to 63 characters with trailing '-' trimmed (the original's rule for these names; no hash)."""
    return name[:MAX_NAME].rstrip("-")


def _find(deployments: list[dict], name: str) -> tuple[dict, dict] | None:
    for deployment in deployments:
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            if container.get("name") == name:
                return deployment, container
    return None


def add_model_servers(
    sdep: SeldonDeployment, predictor: PredictorSpec, deployments: list[dict], settings: OperatorSettings
) -> None:
    """Shape every prepack unit's container and add storage initializers, in graph pre-order."""
    protocol = (sdep.spec.protocol if sdep.spec else None) or "seldon"
    for unit in predictor.units():
        found = _find(deployments, unit.name or "")
        if found is None:
            continue
        deployment, container = found
        pod = deployment["spec"]["template"]["spec"]
        model_container = container
        if unit.implementation == "TENSORFLOW_SERVER":
            model_container = _tensorflow(unit, container, pod, protocol, settings)
        elif unit.implementation == "TRITON_SERVER":
            _triton(sdep, unit, container, settings)
        elif is_prepack(unit.implementation) and protocol in ("v2", "kfserving"):
            _mlserver(unit, container)
        elif is_prepack(unit.implementation):
            params = [p.to_dict() for p in unit.parameters or ()]
            params.append({"name": "model_uri", "value": MODEL_PATH, "type": "STRING"})
            set_env(container, "PREDICTIVE_UNIT_PARAMETERS", compact_json(params), override=True)
        if unit.model_uri and not _loads_directly(sdep, unit):
            add_storage_initializer(pod, model_container, unit, settings)


def _loads_directly(sdep: SeldonDeployment, unit: PredictiveUnit) -> bool:
    no_storage = (sdep.spec_annotation(NO_STORAGE_INITIALIZER) or "").lower() == "true"
    return unit.implementation == "TRITON_SERVER" and no_storage


def add_storage_initializer(pod: dict, container: dict, unit: PredictiveUnit, settings: OperatorSettings) -> None:
    """An init container downloading `modelUri` into an emptyDir that `container` mounts read-only at /mnt/models."""
    name = container.get("name") or ""
    init_name, volume = _cut(f"{name}-model-initializer"), _cut(f"{name}-provision-location")
    init_containers = pod.setdefault("initContainers", [])
    if any(c.get("name") == init_name for c in init_containers):
        return
    init: dict[str, Any] = {
        "name": init_name,
        "image": unit.storage_initializer_image or settings.storage_initializer_image,
        "args": [unit.model_uri, MODEL_PATH],
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [{"name": volume, "mountPath": MODEL_PATH}],
    }
    secret = unit.env_secret_ref_name or settings.default_env_secret_ref_name
    if secret:
        init["envFrom"] = [{"secretRef": {"name": secret}}]
    init_containers.append(init)
    pod.setdefault("volumes", []).append({"name": volume, "emptyDir": {}})
    container.setdefault("volumeMounts", []).append({"name": volume, "mountPath": MODEL_PATH, "readOnly": True})


def _http_probes(container: dict, ready: str, live: str, period: int | None = None) -> None:
    """Point the probes at MLServer/Triton's HTTP health endpoints, keeping any timings already set."""
    for key, path, delay in (("readinessProbe", ready, 20), ("livenessProbe", live, 60)):
        handlers = ("tcpSocket", "httpGet", "exec", "grpc")
        probe = {k: v for k, v in (container.get(key) or {}).items() if k not in handlers}
        probe.setdefault("initialDelaySeconds", delay)
        if period is not None:
            probe["periodSeconds"] = period
            probe["timeoutSeconds"] = 1
        container[key] = {"httpGet": {"path": path, "port": "http"}, **probe}


def _mlserver(unit: PredictiveUnit, container: dict) -> None:
    http, grpc = unit.ports()
    pairs = [
        ("MLSERVER_HTTP_PORT", str(http)),
        ("MLSERVER_GRPC_PORT", str(grpc)),
        ("MLSERVER_MODEL_IMPLEMENTATION", MLSERVER_IMPLEMENTATIONS.get(unit.implementation or "", "")),
        ("MLSERVER_MODEL_NAME", unit.name or ""),
        ("MLSERVER_MODEL_VERSION", "v1"),
        ("MLSERVER_MODEL_URI", MODEL_PATH),
    ]
    if unit.implementation == "HUGGINGFACE_SERVER":
        pairs += [("MLSERVER_PARALLEL_WORKERS", "0"), ("XDG_CACHE_HOME", "/opt/mlserver")]
    for key, value in pairs:
        set_env(container, key, value)
    _http_probes(container, "/v2/health/ready", "/v2/health/live")


def _triton(sdep: SeldonDeployment, unit: PredictiveUnit, container: dict, settings: OperatorSettings) -> None:
    """Triton's command line; loading straight from `modelUri`, it takes the unit's Triton parameters in order.

    Parameter names are matched case-insensitively and `load_model` may repeat, each one a `--load-model=`.
    A container's own `args` and `envFrom` are kept.
    """
    http, grpc = unit.ports()
    args = ["/opt/tritonserver/bin/tritonserver", f"--grpc-port={grpc}", f"--http-port={http}"]
    if _loads_directly(sdep, unit):
        args.append(f"--model-repository={unit.model_uri}")
        for param in unit.parameters or ():
            flag = TRITON_PARAMETERS.get((param.name or "").lower())
            if flag is not None:
                args.append(f"{flag}{param.value}")
        secret = unit.env_secret_ref_name or settings.default_env_secret_ref_name
        if secret and not container.get("envFrom"):
            container["envFrom"] = [{"secretRef": {"name": secret}}]
    else:
        args += [f"--model-repository={MODEL_PATH}", "--strict-model-config=false"]
    if not container.get("args"):
        container["args"] = args
    for name, port in (("grpc", grpc), ("http", http)):
        entry = named_port(container, name)
        if entry is not None:  # the unit's container got both ports before its server is shaped
            entry["containerPort"] = port
    _http_probes(container, "/v2/health/ready", "/v2/health/live", period=10)


def _tensorflow(unit: PredictiveUnit, container: dict, pod: dict, protocol: str, settings: OperatorSettings) -> dict:
    """TF Serving in the unit's container (tensorflow protocol), else the proxy plus a `tfserving` container."""
    servers = settings.sdep.predictor_servers
    if protocol == "tensorflow":
        if not container.get("image"):
            container["image"] = image_name(servers, "TENSORFLOW_SERVER", "tensorflow")
        ports = unit.ports()
        container.setdefault("args", _tfserving_args(unit, ports.grpc, ports.http))
        return container
    params = [p.to_dict() for p in unit.parameters or ()]
    names = {p["name"] for p in params}
    if "rest_endpoint" not in names and "grpc_endpoint" not in names:
        params += [
            {"name": "rest_endpoint", "value": f"http://0.0.0.0:{TFSERVING_HTTP_PORT}", "type": "STRING"},
            {"name": "grpc_endpoint", "value": f"0.0.0.0:{TFSERVING_GRPC_PORT}", "type": "STRING"},
        ]
    params.append({"name": "model_name", "value": unit.name or "", "type": "STRING"})
    set_env(container, "PREDICTIVE_UNIT_PARAMETERS", compact_json(params), override=True)
    serving = next((c for c in pod["containers"] if c.get("name") == TFSERVING_CONTAINER), None)
    if serving is None:
        serving = {"name": TFSERVING_CONTAINER}
        pod["containers"].append(serving)
    if not serving.get("image"):
        serving["image"] = image_name(servers, "TENSORFLOW_SERVER", "tensorflow")
    serving.setdefault("args", _tfserving_args(unit, TFSERVING_GRPC_PORT, TFSERVING_HTTP_PORT))
    serving.setdefault(
        "ports",
        [
            {"name": "grpc", "containerPort": TFSERVING_GRPC_PORT, "protocol": "TCP"},
            {"name": "http", "containerPort": TFSERVING_HTTP_PORT, "protocol": "TCP"},
        ],
    )
    serving.setdefault("imagePullPolicy", "IfNotPresent")
    serving.setdefault("terminationMessagePath", "/dev/termination-log")
    serving.setdefault("terminationMessagePolicy", "File")
    return serving


def _tfserving_args(unit: PredictiveUnit, grpc_port: int, http_port: int) -> list[str]:
    return [
        "/usr/bin/tensorflow_model_server",
        f"--port={grpc_port}",
        f"--rest_api_port={http_port}",
        f"--model_name={unit.name}",
        f"--model_base_path={MODEL_PATH}",
    ]
