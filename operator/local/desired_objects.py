"""The operator's own renderer, configured for a local run: the same objects the cluster would get.

The only local choices are which ingress objects to render (Ambassador Mappings by default, or Istio
VirtualService/DestinationRules) and that the original's environment variables still apply on top. The `up`
command validates each SeldonDeployment here with those settings; the supervisor parses what it is asked to run
and leaves validation to rendering, so one run of `up` checks each deployment with one set of rules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from seldon_graph.operator.render.desired import desired_state
from seldon_graph.operator.render.settings import OperatorSettings
from seldon_graph.sdep import SdepError, SeldonDeployment, parse, validate

INGRESSES = ("ambassador", "istio")
INGRESS_ENV = {
    "ambassador": {"AMBASSADOR_ENABLED": "true", "ISTIO_ENABLED": "false"},
    "istio": {"AMBASSADOR_ENABLED": "false", "ISTIO_ENABLED": "true"},
}
DEFAULT_NAMESPACE = "default"


class DeploymentId(NamedTuple):
    namespace: str
    name: str


def local_settings(ingress: str, environ: Mapping[str, str] | None = None) -> OperatorSettings:
    """The operator's settings from the environment, with only the chosen ingress enabled."""
    return OperatorSettings.from_env({**(os.environ if environ is None else environ), **INGRESS_ENV[ingress]})


def identity(document: dict) -> DeploymentId:
    """Namespace and name of a manifest, even one that does not parse (its status still needs a name); the
    namespace defaults to `default` as the operator's defaulting does."""
    metadata = (document.get("metadata") if isinstance(document, dict) else None) or {}
    return DeploymentId(metadata.get("namespace") or DEFAULT_NAMESPACE, metadata.get("name") or "")


def parse_local(document: dict | str) -> SeldonDeployment:
    """The typed SeldonDeployment of a manifest, its namespace defaulted; SdepError names every structural problem."""
    sdep = parse(document)
    sdep.metadata = {**(sdep.metadata or {}), "namespace": sdep.namespace or DEFAULT_NAMESPACE}
    return sdep


def load(document: dict | str, settings: OperatorSettings) -> SeldonDeployment:
    """Parse and validate with `settings`, raising SdepError with every problem (as `kubectl apply` would refuse
    it)."""
    sdep = parse_local(document)
    errors = validate(sdep, settings.sdep)
    if errors:
        raise SdepError(errors)
    return sdep


def render(sdep: SeldonDeployment, ingress: str) -> list[dict]:
    """The desired state (Deployments, Services, ingress objects) of `sdep`, exactly as the operator renders it;
    RenderError when it cannot be rendered (an invalid SeldonDeployment lists every problem)."""
    return desired_state(sdep, local_settings(ingress))
