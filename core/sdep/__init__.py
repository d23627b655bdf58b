"""SeldonDeployment types, loading, defaulting and validation: the shared language of operator, engine and runtime.

sdep = parse(yaml_text)            # typed model; unknown fields -> SdepError naming the path
errors = validate(sdep)            # [] when valid; each message names its field path
sdep = default(sdep, settings)     # pure: ports, hosts, version label, node types, prepack containers
predictor = default_graph(predictor)  # pure: node types only (the engine's lone predictor)
"""

from seldon_graph.sdep.defaulting import default, default_graph, separate_engine, uses_grpc
from seldon_graph.sdep.load import SdepError, parse, parse_predictor
from seldon_graph.sdep.prepack import is_prepack
from seldon_graph.sdep.settings import SdepSettings
from seldon_graph.sdep.types import (
    SSL,
    Endpoint,
    Explainer,
    HpaSpec,
    Logger,
    Parameter,
    PdbSpec,
    PredictiveUnit,
    PredictorSpec,
    SeldonDeployment,
    SeldonDeploymentSpec,
    SeldonPodSpec,
    SvcOrchSpec,
)
from seldon_graph.sdep.validation import no_engine, validate, validate_predictor

__all__ = [
    "SSL",
    "Endpoint",
    "Explainer",
    "HpaSpec",
    "Logger",
    "Parameter",
    "PdbSpec",
    "PredictiveUnit",
    "PredictorSpec",
    "SdepError",
    "SdepSettings",
    "SeldonDeployment",
    "SeldonDeploymentSpec",
    "SeldonPodSpec",
    "SvcOrchSpec",
    "default",
    "default_graph",
    "is_prepack",
    "no_engine",
    "parse",
    "parse_predictor",
    "separate_engine",
    "uses_grpc",
    "validate",
    "validate_predictor",
]
