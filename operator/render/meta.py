"""Metadata shared by every rendered object: owner references, the SDep-wide labels, type labels, map order.

Maps are emitted with sorted keys (as Go's JSON encoder writes them), so the rendered bytes depend only on
the input, never on the order in which labels were added.
"""

from __future__ import annotations

from seldon_graph import naming
from seldon_graph.labels import SDEP_ID_LABEL as SDEP_ID_LABEL  # re-exported to the other render modules
from seldon_graph.sdep import PredictiveUnit, PredictorSpec, SeldonDeployment

MANAGED_BY = {"app.kubernetes.io/managed-by": "seldon-core"}
SELDON_APP_LABEL = "seldon-app"
CONTAINS_ENGINE_LABEL = "seldon-deployment-contains-svcorch"
SHADOW_LABEL = "seldon.io/shadow"
TYPE_LABELS = {
    "ROUTER": "seldon.io/router",
    "COMBINER": "seldon.io/combiner",
    "MODEL": "seldon.io/model",
    "TRANSFORMER": "seldon.io/transformer",
    "OUTPUT_TRANSFORMER": "seldon.io/output-transformer",
}


def sorted_map(mapping: dict | None) -> dict:
    return dict(sorted((mapping or {}).items()))


def object_meta(sdep: SeldonDeployment, name: str, labels: dict, annotations: dict | None = None) -> dict:
    meta = {"name": name, "namespace": sdep.namespace, "labels": sorted_map(labels)}
    if annotations:
        meta["annotations"] = sorted_map(annotations)
    owners = sdep.owner_references()
    if owners:
        meta["ownerReferences"] = owners
    return meta


def seldon_id(sdep: SeldonDeployment) -> str:
    return naming.seldon_id(sdep.name)


def predictor_service(sdep: SeldonDeployment, predictor: PredictorSpec) -> str:
    """pSvcName: the predictor's Service name (`seldon.io/svc-name` wins)."""
    return naming.predictor_service_name(sdep.name, predictor.to_dict())


def unit_labels(unit: PredictiveUnit, predictor: PredictorSpec) -> dict:
    """`seldon.io/<type>: "true"` for the unit's type, `seldon.io/shadow` for a shadow predictor, managed-by."""
    labels = dict(MANAGED_BY)
    if unit.type in TYPE_LABELS:
        labels[TYPE_LABELS[unit.type]] = "true"
    if predictor.shadow:
        labels[SHADOW_LABEL] = "true"
    return labels
