"""The operator's configuration: the original's environment variables, read once into one immutable value.

The renderers (desired state, Ambassador, Istio) take this value instead of reading the environment, so
rendering stays pure and tests can set any configuration without touching os.environ.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from seldon_graph.ambassador import AmbassadorSettings
from seldon_graph.images import RUNTIME_IMAGE
from seldon_graph.istio import IstioSettings
from seldon_graph.sdep import SdepSettings
from seldon_graph.sdep.settings import env_int

DEFAULT_ENGINE_IMAGE = RUNTIME_IMAGE


def env_flag(environ: Mapping[str, str], name: str) -> bool:
    """true/1 (any case) → True; anything else, or unset → False (the original's GetEnvAsBool)."""
    return (environ.get(name) or "").strip().lower() in ("true", "1")


@dataclass(frozen=True)
class EngineSettings:
    """The injected `seldon-engine` container (the original's executor)."""

    image: str = DEFAULT_ENGINE_IMAGE  # RELATED_IMAGE_EXECUTOR, else EXECUTOR_CONTAINER_IMAGE_AND_VERSION
    command: tuple[str, ...] = ("seldon-engine",)  # ENGINE_CONTAINER_COMMAND ("" = the image's entrypoint)
    pull_policy: str = "IfNotPresent"  # EXECUTOR_CONTAINER_IMAGE_PULL_POLICY
    user: int | None = None  # EXECUTOR_CONTAINER_USER
    service_account: str = "default"  # EXECUTOR_CONTAINER_SERVICE_ACCOUNT_NAME (separate engine pod)
    http_port: int = 8000  # EXECUTOR_SERVER_PORT
    grpc_port: int = 5001  # EXECUTOR_SERVER_GRPC_PORT
    metrics_port_name: str = "metrics"  # EXECUTOR_SERVER_METRICS_PORT_NAME
    prometheus_path: str = "/prometheus"  # EXECUTOR_PROMETHEUS_PATH
    logger_endpoint: str = "http://default-broker"  # EXECUTOR_REQUEST_LOGGER_DEFAULT_ENDPOINT
    logger_queue_size: int = 10000  # EXECUTOR_REQUEST_LOGGER_WORK_QUEUE_SIZE
    logger_write_timeout_ms: int = 2000  # EXECUTOR_REQUEST_LOGGER_WRITE_TIMEOUT_MS
    full_health_checks: bool = False  # EXECUTOR_FULL_HEALTH_CHECKS
    cpu_request: str = "0.5"  # EXECUTOR_DEFAULT_CPU_REQUEST
    cpu_limit: str = "0.5"  # EXECUTOR_DEFAULT_CPU_LIMIT
    memory_request: str = "512Mi"  # EXECUTOR_DEFAULT_MEMORY_REQUEST
    memory_limit: str = "512Mi"  # EXECUTOR_DEFAULT_MEMORY_LIMIT

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> EngineSettings:
        command = environ.get("ENGINE_CONTAINER_COMMAND")
        return cls(
            image=environ.get("RELATED_IMAGE_EXECUTOR")
            or environ.get("EXECUTOR_CONTAINER_IMAGE_AND_VERSION")
            or DEFAULT_ENGINE_IMAGE,
            command=("seldon-engine",) if command is None else tuple(command.split()),
            pull_policy=environ.get("EXECUTOR_CONTAINER_IMAGE_PULL_POLICY") or "IfNotPresent",
            user=env_int(environ, "EXECUTOR_CONTAINER_USER", None),
            service_account=environ.get("EXECUTOR_CONTAINER_SERVICE_ACCOUNT_NAME") or "default",
            http_port=env_int(environ, "EXECUTOR_SERVER_PORT", 8000),
            grpc_port=env_int(environ, "EXECUTOR_SERVER_GRPC_PORT", 5001),
            metrics_port_name=environ.get("EXECUTOR_SERVER_METRICS_PORT_NAME") or "metrics",
            prometheus_path=environ.get("EXECUTOR_PROMETHEUS_PATH") or "/prometheus",
            logger_endpoint=environ.get("EXECUTOR_REQUEST_LOGGER_DEFAULT_ENDPOINT") or "http://default-broker",
            logger_queue_size=env_int(environ, "EXECUTOR_REQUEST_LOGGER_WORK_QUEUE_SIZE", 10000),
            logger_write_timeout_ms=env_int(environ, "EXECUTOR_REQUEST_LOGGER_WRITE_TIMEOUT_MS", 2000),
            full_health_checks=env_flag(environ, "EXECUTOR_FULL_HEALTH_CHECKS"),
            cpu_request=environ.get("EXECUTOR_DEFAULT_CPU_REQUEST") or "0.5",
            cpu_limit=environ.get("EXECUTOR_DEFAULT_CPU_LIMIT") or "0.5",
            memory_request=environ.get("EXECUTOR_DEFAULT_MEMORY_REQUEST") or "512Mi",
            memory_limit=environ.get("EXECUTOR_DEFAULT_MEMORY_LIMIT") or "512Mi",
        )


@dataclass(frozen=True)
class OperatorSettings:
    """Everything the operator's environment decides; `from_env` reads the original's variable names."""

    engine: EngineSettings = field(default_factory=EngineSettings)
    sdep: SdepSettings = field(default_factory=SdepSettings)
    ambassador: AmbassadorSettings = field(default_factory=lambda: AmbassadorSettings(enabled=False))
    istio: IstioSettings = field(default_factory=lambda: IstioSettings(enabled=False))
    service_http_port: int = 8000  # ENGINE_SERVER_PORT: predictor Service http port
    service_grpc_port: int = 5001  # ENGINE_SERVER_GRPC_PORT
    default_user_id: int | None = None  # DEFAULT_USER_ID: pod runAsUser
    deployment_name_as_prefix: bool = False  # DEPLOYMENT_NAME_AS_PREFIX
    cert_mount_path: str = "/cert/"  # DEFAULT_CERT_MOUNT_PATH_NAME
    keda_enabled: bool = False  # KEDA_ENABLED
    controller_id: str = ""  # CONTROLLER_ID
    watch_namespace: str = ""  # WATCH_NAMESPACE
    pod_namespace: str = "seldon-system"  # POD_NAMESPACE
    storage_initializer_image: str = "seldonio/rclone-storage-initializer:1.18.2"  # RELATED_IMAGE_STORAGE_INITIALIZER
    default_env_secret_ref_name: str = ""  # PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME
    explainer_image: str = "seldonio/alibiexplainer:1.18.2"  # RELATED_IMAGE_EXPLAINER
    explainer_image_v2: str = "seldonio/mlserver:1.3.5-alibi-explain"  # RELATED_IMAGE_EXPLAINER_V2

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OperatorSettings:
        environ = os.environ if environ is None else environ
        return cls(
            engine=EngineSettings.from_env(environ),
            sdep=SdepSettings.from_env(dict(environ)),
            ambassador=AmbassadorSettings.from_env(environ),
            istio=IstioSettings.from_env(environ),
            service_http_port=env_int(environ, "ENGINE_SERVER_PORT", 8000),
            service_grpc_port=env_int(environ, "ENGINE_SERVER_GRPC_PORT", 5001),
            default_user_id=env_int(environ, "DEFAULT_USER_ID", None),  # a bad value is ignored, as in the original
            deployment_name_as_prefix=env_flag(environ, "DEPLOYMENT_NAME_AS_PREFIX"),
            cert_mount_path=environ.get("DEFAULT_CERT_MOUNT_PATH_NAME") or "/cert/",
            keda_enabled=env_flag(environ, "KEDA_ENABLED"),
            controller_id=environ.get("CONTROLLER_ID") or "",
            watch_namespace=environ.get("WATCH_NAMESPACE") or "",
            pod_namespace=environ.get("POD_NAMESPACE") or "seldon-system",
            storage_initializer_image=environ.get("RELATED_IMAGE_STORAGE_INITIALIZER")
            or "seldonio/rclone-storage-initializer:1.18.2",
            default_env_secret_ref_name=environ.get("PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME") or "",
            explainer_image=environ.get("RELATED_IMAGE_EXPLAINER") or "seldonio/alibiexplainer:1.18.2",
            explainer_image_v2=environ.get("RELATED_IMAGE_EXPLAINER_V2") or "seldonio/mlserver:1.3.5-alibi-explain",
        )
