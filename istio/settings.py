"""What the operator's environment decides about Istio output (the original's env var names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TLS_MODES = ("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL")


@dataclass(frozen=True)
class IstioSettings:
    """Istio rendering settings.

    `gateway`: the VirtualService gateway unless `seldon.io/istio-gateway` says otherwise. `tls_mode`: when
    non-empty, the DestinationRule traffic policy becomes `{tls: {mode}}` (an unknown mode means DISABLE).
    The engine ports are the predictor Service ports the routes point at.
    """

    enabled: bool = True
    gateway: str = "seldon-gateway"
    tls_mode: str = ""
    engine_http_port: int = 8000
    engine_grpc_port: int = 5001
    api_version: str = "networking.istio.io/v1alpha3"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> IstioSettings:
        """ISTIO_ENABLED, ISTIO_GATEWAY, ISTIO_TLS_MODE, ENGINE_SERVER_PORT, ENGINE_SERVER_GRPC_PORT."""
        return cls(
            enabled=(environ.get("ISTIO_ENABLED") or "").strip().lower() == "true",
            gateway=(environ.get("ISTIO_GATEWAY") or "").strip() or "seldon-gateway",
            tls_mode=(environ.get("ISTIO_TLS_MODE") or "").strip(),
            engine_http_port=int(environ.get("ENGINE_SERVER_PORT") or 8000),
            engine_grpc_port=int(environ.get("ENGINE_SERVER_GRPC_PORT") or 5001),
        )

    def tls_policy_mode(self) -> str:
        return self.tls_mode if self.tls_mode in TLS_MODES else "DISABLE"
