"""SeldonDeployment → Istio VirtualService + DestinationRules (pure functions), and their Envoy translation.

- `render(sdep, settings)`: one VirtualService per SeldonDeployment and one DestinationRule per predictor
  (plus explainer objects), Seldon v1.18 shape. The SeldonDeployment is the defaulted CR as a plain dict.
- `envoy_routes(virtual_services, destination_rules, resolve)`: Envoy routes and clusters for
  `seldon_graph.envoy.bootstrap`.
Malformed annotations raise IstioConfigError.
"""

from __future__ import annotations

from .objects import IstioConfigError, render_objects
from .routes import envoy_routes
from .settings import IstioSettings

__all__ = ["IstioConfigError", "IstioSettings", "envoy_routes", "render"]


def render(sdep: dict, settings: IstioSettings) -> list[dict]:
    """The Istio objects for `sdep`, in a stable order (same input → same objects)."""
    return render_objects(sdep, settings)
