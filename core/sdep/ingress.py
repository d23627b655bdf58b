"""What the ingress renderers (Ambassador, Istio) read from a defaulted SeldonDeployment given as a plain dict.

Both renderers need the same facts; they live here because the two packages may not import each other.
"""

from __future__ import annotations

NO_ENGINE = "seldon.io/no-engine"


def annotation(sdep: dict, key: str) -> str | None:
    """An SDep annotation as Seldon v1 reads it: spec.annotations win over metadata.annotations."""
    for source in ((sdep.get("spec") or {}).get("annotations"), (sdep.get("metadata") or {}).get("annotations")):
        if source and key in source:
            return str(source[key])
    return None


def predictor_ports(predictor: dict, engine_http_port: int, engine_grpc_port: int) -> tuple[int, int]:
    """The predictor Service's (http, grpc) ports: the engine's, or the root unit's when there is no engine."""
    if str((predictor.get("annotations") or {}).get(NO_ENGINE, "")).lower() != "true":
        return engine_http_port, engine_grpc_port
    endpoint = (predictor.get("graph") or {}).get("endpoint") or {}
    return int(endpoint.get("httpPort") or 9000), int(endpoint.get("grpcPort") or 9500)


def owner_reference(sdep: dict) -> dict:
    """The controller ownerReference to the SeldonDeployment (uid included when the object has one)."""
    metadata = sdep["metadata"]
    reference = {
        "apiVersion": sdep.get("apiVersion") or "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "name": metadata["name"],
    }
    if metadata.get("uid"):
        reference["uid"] = metadata["uid"]
    reference.update(controller=True, blockOwnerDeletion=True)
    return reference
