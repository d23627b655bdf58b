"""SeldonDeployment → Istio VirtualService + DestinationRules (pure functions), and their Envoy translation.

- `render(sdep, settings)`: one VirtualService per SeldonDeployment and one DestinationRule per predictor
  (plus explainer objects), Seldon v1.18 shape. The SeldonDeployment is the typed model of `seldon_graph.sdep`,
  validated and defaulted by the caller.
- `envoy_routes(virtual_services, destination_rules, resolve)`: Envoy routes and clusters for
  `seldon_graph.envoy.bootstrap`.
Malformed annotations raise IstioConfigError.
"""

from __future__ import annotations

from seldon_graph.sdep import SeldonDeployment

from .envoy_translation import envoy_routes
from .objects import IstioConfigError, render_objects
from .settings import IstioSettings

__all__ = ["IstioConfigError", "IstioSettings", "envoy_routes", "render"]


def render(sdep: SeldonDeployment, settings: IstioSettings) -> list[dict]:
    """The Istio objects for `sdep`, in a stable order (same input → same objects)."""
    return render_objects(sdep, settings)
