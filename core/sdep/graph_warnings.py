"""What a valid SeldonDeployment can still hold that the engine refuses at start: warnings, not errors.

Seldon's admission webhook accepts a graph node of an unknown `type` and two nodes of one name (the CRD does
not constrain them), so `validate` accepts them too; but the engine cannot walk such a graph and exits at
start, so they are worth a warning before anything is deployed.
"""

from __future__ import annotations

from seldon_graph.sdep.types import PredictiveUnit, SeldonDeployment
from seldon_graph.sdep.validation import no_engine

NODE_TYPES = ("UNKNOWN_TYPE", "ROUTER", "COMBINER", "MODEL", "TRANSFORMER", "OUTPUT_TRANSFORMER")


def graph_warnings(sdep: SeldonDeployment) -> list[str]:
    """One line per problem (`<field path>: <what the engine will do>`), for predictors that run the engine."""
    warnings: list[str] = []
    for index, predictor in enumerate(sdep.predictors):
        if predictor.graph is None or no_engine(predictor):
            continue
        seen: set[str] = set()
        for path, unit in _walk(predictor.graph, f"spec.predictors[{index}].graph"):
            if unit.type is not None and unit.type not in NODE_TYPES:
                warnings.append(
                    f"{path}.type: unknown type {unit.type!r} (known: {', '.join(NODE_TYPES)}); "
                    "the engine will refuse this predictor"
                )
            name = unit.name or ""
            if name in seen:
                warnings.append(f"{path}.name: duplicate node name {name!r}; the engine will refuse this predictor")
            seen.add(name)
    return warnings


def _walk(unit: PredictiveUnit, path: str):
    """(field path, unit) of every node, depth first in graph order."""
    yield path, unit
    for index, child in enumerate(unit.children or ()):
        yield from _walk(child, f"{path}.children[{index}]")
