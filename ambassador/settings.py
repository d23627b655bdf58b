"""What the operator's environment decides about Ambassador output (the original's env var names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

VERSIONS = ("v1", "v2", "v3alpha1")


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


@dataclass(frozen=True)
class AmbassadorSettings:
    """Ambassador rendering settings.

    `version`: "v2" (default, getambassador.io/v2 Mapping CRs), "v3alpha1" (getambassador.io/v3alpha1), or "v1"
    (the legacy `getambassador.io/config` annotation on each predictor Service, see `service_annotations`).
    `single_namespace` adds the non-namespaced `/seldon/<name>/` mappings. The engine ports are the predictor
    Service ports the mappings point at.
    """

    enabled: bool = True
    version: str = "v2"
    single_namespace: bool = False
    engine_http_port: int = 8000
    engine_grpc_port: int = 5001

    def __post_init__(self) -> None:
        if self.version not in VERSIONS:
            raise ValueError(f"AMBASSADOR_VERSION must be one of {', '.join(VERSIONS)}, not {self.version!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> AmbassadorSettings:
        """AMBASSADOR_ENABLED, AMBASSADOR_VERSION (default v2), AMBASSADOR_SINGLE_NAMESPACE,
        ENGINE_SERVER_PORT, ENGINE_SERVER_GRPC_PORT."""
        return cls(
            enabled=_flag(environ.get("AMBASSADOR_ENABLED")),
            version=(environ.get("AMBASSADOR_VERSION") or "v2").strip(),
            single_namespace=_flag(environ.get("AMBASSADOR_SINGLE_NAMESPACE")),
            engine_http_port=int(environ.get("ENGINE_SERVER_PORT") or 8000),
            engine_grpc_port=int(environ.get("ENGINE_SERVER_GRPC_PORT") or 5001),
        )
