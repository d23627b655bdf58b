"""SeldonDeployment → Ambassador config (pure functions), and Ambassador Mappings → Envoy routes for local runs.

- `render(sdep, settings)`: the Mapping (and TLSContext) custom resources, getambassador.io/v2 by default or
  v3alpha1; [] when `settings.version == "v1"`, whose config is Service annotations instead.
- `service_annotations(sdep, settings)`: {Service name: {"getambassador.io/config": YAML}} for the legacy v1 form
  ({} for the CR forms).
- `envoy_routes(mappings, resolve)`: Envoy routes and clusters for `seldon_graph.envoy.bootstrap`.
The SeldonDeployment is the typed model of `seldon_graph.sdep`, validated and defaulted by the caller.
Malformed annotations raise AmbassadorConfigError.
"""

from __future__ import annotations

from seldon_graph.sdep import SeldonDeployment
from seldon_graph.sdep.predictor_service import ServicePorts

from . import legacy, mappings, predictor_routes
from .envoy_translation import envoy_routes
from .predictor_routes import AmbassadorConfigError
from .settings import AmbassadorSettings

__all__ = ["AmbassadorConfigError", "AmbassadorSettings", "envoy_routes", "render", "service_annotations"]


def _routes(
    sdep: SeldonDeployment, settings: AmbassadorSettings
) -> tuple[list[predictor_routes.Route], predictor_routes.Options]:
    is_legacy = settings.version == "v1"
    opts = predictor_routes.options(sdep, is_legacy)
    routes = predictor_routes.routes(
        sdep,
        opts,
        single_namespace=settings.single_namespace,
        engine_ports=ServicePorts(settings.engine_http_port, settings.engine_grpc_port),
        legacy=is_legacy,
    )
    return routes, opts


def render(sdep: SeldonDeployment, settings: AmbassadorSettings) -> list[dict]:
    """The Ambassador custom resources for `sdep`, in a stable order (same input → same objects)."""
    if settings.version == "v1":
        return []
    routes, opts = _routes(sdep, settings)
    return mappings.render_objects(sdep, routes, opts, version=settings.version)


def service_annotations(sdep: SeldonDeployment, settings: AmbassadorSettings) -> dict[str, dict[str, str]]:
    """The legacy `getambassador.io/config` annotation of each predictor and explainer Service."""
    if settings.version != "v1":
        return {}
    routes, opts = _routes(sdep, settings)
    return legacy.service_annotations(sdep, routes, opts)
