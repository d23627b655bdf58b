"""SeldonDeployment → Ambassador config (pure functions), and Ambassador Mappings → Envoy routes for local runs.

- `render(sdep, settings)`: the Mapping (and TLSContext) custom resources, getambassador.io/v2 by default or
  v3alpha1; [] when `settings.version == "v1"`, whose config is Service annotations instead.
- `service_annotations(sdep, settings)`: {Service name: {"getambassador.io/config": YAML}} for the legacy v1 form
  ({} for the CR forms).
- `envoy_routes(mappings, resolve)`: Envoy routes and clusters for `seldon_graph.envoy.bootstrap`.
The SeldonDeployment is the defaulted CR as a plain dict. Malformed annotations raise AmbassadorConfigError.
"""

from __future__ import annotations

from . import legacy, mappings, plan
from .plan import AmbassadorConfigError
from .routes import envoy_routes
from .settings import AmbassadorSettings

__all__ = ["AmbassadorConfigError", "AmbassadorSettings", "envoy_routes", "render", "service_annotations"]


def _routes(sdep: dict, settings: AmbassadorSettings) -> tuple[list[plan.Route], plan.Options]:
    is_legacy = settings.version == "v1"
    opts = plan.options(sdep, is_legacy)
    ports = (settings.engine_http_port, settings.engine_grpc_port)
    return plan.routes(sdep, opts, settings.single_namespace, ports, is_legacy), opts


def render(sdep: dict, settings: AmbassadorSettings) -> list[dict]:
    """The Ambassador custom resources for `sdep`, in a stable order (same input → same objects)."""
    if settings.version == "v1":
        return []
    routes, opts = _routes(sdep, settings)
    return mappings.render_objects(sdep, routes, opts, settings.version)


def service_annotations(sdep: dict, settings: AmbassadorSettings) -> dict[str, dict[str, str]]:
    """The legacy `getambassador.io/config` annotation of each predictor and explainer Service."""
    if settings.version != "v1":
        return {}
    routes, opts = _routes(sdep, settings)
    return legacy.service_annotations(sdep, routes, opts)
