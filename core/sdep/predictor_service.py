"""The predictor Service as routes from outside address it: its name and the ports it serves.

Shared by the ingress renderers (Ambassador, Istio), which may not import each other or the operator.
"""

from __future__ import annotations

from typing import NamedTuple

from seldon_graph import naming
from seldon_graph.sdep.types import PredictorSpec, SeldonDeployment
from seldon_graph.sdep.validation import no_engine

UNIT_HTTP_PORT = 9000
UNIT_GRPC_PORT = 9500


class ServicePorts(NamedTuple):
    """A Service's HTTP and gRPC port numbers."""

    http: int
    grpc: int


def service_name(sdep: SeldonDeployment, predictor: PredictorSpec) -> str:
    """pSvcName: `<sdep>-<predictor>` fitted to 63 characters, unless `seldon.io/svc-name` names it."""
    return naming.predictor_service_name(sdep.name, predictor.to_dict())


def service_ports(predictor: PredictorSpec, engine: ServicePorts) -> ServicePorts:
    """The engine's ports, or the graph root's own ports for a `seldon.io/no-engine` predictor."""
    if not no_engine(predictor):
        return engine
    endpoint = predictor.graph.endpoint if predictor.graph else None
    return ServicePorts(
        http=(endpoint.http_port if endpoint else None) or UNIT_HTTP_PORT,
        grpc=(endpoint.grpc_port if endpoint else None) or UNIT_GRPC_PORT,
    )
