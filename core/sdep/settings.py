"""The configuration that SeldonDeployment defaulting and validation read (the operator's env in the original).

Kept in core, separate from the operator's settings, because the engine and the local runtime default
predictors too; the operator's settings hold one of these.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from seldon_graph.sdep.prepack import DEFAULT_PREDICTOR_SERVERS, with_related_images

DefaultT = TypeVar("DefaultT", int, None)


def env_int(environ: Mapping[str, str], name: str, default: DefaultT) -> int | DefaultT:
    """An integer variable; unset or unparsable gives `default`, as the original's getEnvAsInt does."""
    try:
        return int(environ.get(name, ""))
    except ValueError:
        return default


@dataclass(frozen=True)
class SdepSettings:
    http_port: int = 9000  # PREDICTIVE_UNIT_HTTP_SERVICE_PORT: first http port handed out
    grpc_port: int = 9500  # PREDICTIVE_UNIT_GRPC_SERVICE_PORT
    metrics_port: int = 6000  # PREDICTIVE_UNIT_METRICS_SERVICE_PORT
    metrics_port_name: str = "metrics"  # PREDICTIVE_UNIT_METRICS_PORT_NAME
    default_namespace: str = "default"
    predictor_servers: dict = field(default_factory=lambda: with_related_images(DEFAULT_PREDICTOR_SERVERS, {}))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SdepSettings:
        """Settings from the original's environment variables, plus PREDICTOR_SERVERS (JSON, the ConfigMap key)."""
        environ = os.environ if environ is None else environ
        servers = DEFAULT_PREDICTOR_SERVERS
        if environ.get("PREDICTOR_SERVERS"):
            try:
                servers = json.loads(environ["PREDICTOR_SERVERS"])
            except ValueError as exc:
                raise ValueError(f"PREDICTOR_SERVERS is not valid JSON: {exc}") from None
            if not isinstance(servers, dict):
                raise ValueError("PREDICTOR_SERVERS must be a JSON object of server name -> config")
        return cls(
            http_port=env_int(environ, "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", 9000),
            grpc_port=env_int(environ, "PREDICTIVE_UNIT_GRPC_SERVICE_PORT", 9500),
            metrics_port=env_int(environ, "PREDICTIVE_UNIT_METRICS_SERVICE_PORT", 6000),
            metrics_port_name=environ.get("PREDICTIVE_UNIT_METRICS_PORT_NAME") or "metrics",
            predictor_servers=with_related_images(servers, environ),
        )


def resolve(settings) -> SdepSettings:
    """SdepSettings from None (defaults), an SdepSettings, or anything holding one as `.sdep` (OperatorSettings)."""
    if settings is None:
        return SdepSettings()
    return settings if isinstance(settings, SdepSettings) else settings.sdep
