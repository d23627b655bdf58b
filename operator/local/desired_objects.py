"""The operator's own renderer, configured for a local run: the same objects the cluster would get.

The only local choices are which ingress objects to render (Ambassador Mappings by default, or Istio
VirtualService/DestinationRules) and that the original's environment variables still apply on top.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from seldon_graph.sdep import SdepError, SeldonDeployment, parse, validate

INGRESSES = ("ambassador", "istio")
INGRESS_ENV = {
    "ambassador": {"AMBASSADOR_ENABLED": "true", "ISTIO_ENABLED": "false"},
    "istio": {"AMBASSADOR_ENABLED": "false", "ISTIO_ENABLED": "true"},
}


def load(manifest: dict | str) -> SeldonDeployment:
    """Parse and validate, raising SdepError with every problem (as `kubectl apply` would refuse it)."""
    sdep = parse(manifest)
    errors = validate(sdep)
    if errors:
        raise SdepError(errors)
    return sdep


def identity(sdep: SeldonDeployment) -> tuple[str, str]:
    """(namespace, name); the namespace defaults to `default` as the operator's defaulting does."""
    metadata = sdep.metadata or {}
    return metadata.get("namespace") or "default", metadata.get("name") or ""


def operator_settings(ingress: str, environ: Mapping[str, str] | None = None):
    from seldon_graph.operator.render.settings import OperatorSettings

    return OperatorSettings.from_env({**(os.environ if environ is None else environ), **INGRESS_ENV[ingress]})


def render(manifest: dict, ingress: str) -> list[dict]:
    """The desired state (Deployments, Services, ingress objects) of `manifest`, exactly as the operator renders it."""
    from seldon_graph.operator.render.desired import desired_state

    sdep = load(manifest)
    namespace, _ = identity(sdep)
    sdep.metadata = {**(sdep.metadata or {}), "namespace": namespace}
    return desired_state(sdep, operator_settings(ingress))
