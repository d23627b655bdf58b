"""Where the predictor and its annotations come from: env ENGINE_PREDICTOR, a file, the downward-API annotations.

Accepts what the Seldon executor accepts (base64 JSON PredictorSpec in the env, or a SeldonDeployment file plus
a predictor name) and also a bare PredictorSpec file, YAML or JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from seldon_graph.engine.predictor import PredictorError

PREDICTOR_ENV = "ENGINE_PREDICTOR"
_BYTES = re.compile(r"-?[0-9]+")
log = logging.getLogger(__name__)


@dataclass
class PredictorSource:
    """A PredictorSpec dict plus what its SeldonDeployment adds (name, namespace, annotations, transport)."""

    predictor: dict
    deployment: str = ""
    namespace: str = ""
    annotations: dict = field(default_factory=dict)
    transport: str = "REST"


def from_env(value: str) -> PredictorSource:
    """The base64 JSON PredictorSpec of ENGINE_PREDICTOR."""
    try:
        text = base64.b64decode(value.strip(), validate=True)
        predictor = json.loads(text)
    except (binascii.Error, ValueError) as exc:
        raise PredictorError(f"{PREDICTOR_ENV}: not base64 of a JSON PredictorSpec ({exc})") from exc
    if not isinstance(predictor, dict):
        raise PredictorError(f"{PREDICTOR_ENV}: expected a JSON object PredictorSpec")
    return PredictorSource(predictor)


def from_file(path: str | Path, predictor_name: str = "") -> PredictorSource:
    """A PredictorSpec file, or a SeldonDeployment file and the predictor called `predictor_name`."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PredictorError(f"--file {path}: cannot read a YAML or JSON document ({exc})") from exc
    if not isinstance(document, dict):
        raise PredictorError(f"--file {path}: expected a PredictorSpec or SeldonDeployment object")
    spec = document.get("spec")
    if not (isinstance(spec, dict) and isinstance(spec.get("predictors"), list)):
        return PredictorSource(document)
    predictors = [p for p in spec["predictors"] if isinstance(p, dict)]
    if predictor_name:
        chosen = [p for p in predictors if p.get("name") == predictor_name]
    else:
        chosen = predictors if len(predictors) == 1 else []
    if not chosen:
        names = ", ".join(str(p.get("name")) for p in predictors)
        raise PredictorError(
            f"--file {path}: spec.predictors has no predictor named {predictor_name!r} (has: {names}); "
            "pass --predictor NAME"
        )
    metadata = document.get("metadata") or {}
    annotations = {**(metadata.get("annotations") or {}), **(spec.get("annotations") or {})}
    return PredictorSource(
        predictor=chosen[0],
        deployment=str(spec.get("name") or metadata.get("name") or ""),
        namespace=str(metadata.get("namespace") or ""),
        annotations={str(k): str(v) for k, v in annotations.items()},
        transport=str(spec.get("transport") or "rest").upper(),
    )


def read_annotations_file(path: str | Path) -> dict[str, str]:
    """The downward-API annotations file (`key="value"` lines); a missing file is no annotations.

    A malformed line is logged and skipped: the file is written by Kubernetes from every annotation of the pod,
    most of which are not the engine's, so one odd line must not stop the engine (the executor logs and goes on).
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    result = {}
    for line in lines:
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            log.warning('annotations file %s: skipping line %r, which is not key="value"', path, line)
            continue
        result[key.strip().strip('"')] = value.strip().strip('"').replace('\\"', '"')
    return result


def timeout_ms(annotations: dict, key: str) -> float | None:
    """An annotation holding milliseconds, as seconds; None when unset; PredictorError when not a number."""
    value = annotations.get(key)
    if value in (None, ""):
        return None
    try:
        millis = float(value)
    except (TypeError, ValueError) as exc:
        raise PredictorError(f"annotation {key}: expected milliseconds, got {value!r}") from exc
    if millis <= 0:
        raise PredictorError(f"annotation {key}: expected a positive number of milliseconds, got {value!r}")
    return millis / 1000.0


def message_size(annotations: dict, key: str) -> int:
    """An annotation holding a message size in bytes; -1 (no limit) when unset; PredictorError when not a number."""
    value = str(annotations.get(key) or "-1")
    if not _BYTES.fullmatch(value):
        raise PredictorError(f"annotation {key}: expected a number of bytes")
    return int(value)
