"""What every prepackaged server reads from its model folder: the model file and the optional metadata.yaml."""

from __future__ import annotations

import logging
import os
from typing import Any

import yaml

from seldon_graph.errors import SeldonError

log = logging.getLogger(__name__)
METADATA_FILE = "metadata.yaml"


class ModelFileMissing(FileNotFoundError):
    """The model folder lacks the file the server loads; the message names the folder and the file expected."""


class SeldonNotImplementedError(NotImplementedError):
    """Named as seldon-core's: the wrapper takes it as "this model has no such method" (e.g. class_names)."""


def model_file(folder: str, names: tuple[str, ...]) -> str:
    """The first of `names` present in `folder`."""
    for name in names:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise ModelFileMissing(f"no {' or '.join(names)} in the model folder {folder}")


def read_metadata(folder: str) -> dict:
    """metadata.yaml of the model folder; {} when absent or not YAML (logged), as Seldon's servers do."""
    path = os.path.join(folder, METADATA_FILE)
    try:
        with open(path) as handle:
            return yaml.safe_load(handle) or {}
    except FileNotFoundError:
        return {}
    except yaml.YAMLError:
        log.error("metadata file %s present but does not contain valid yaml", path)
        return {}


def predict_or_bad_data(predict: Any, features: Any, server: str) -> Any:
    """Call the model; the library's complaint about the input (wrong shape, wrong type) is the client's 400."""
    try:
        return predict(features)
    except (ValueError, TypeError) as exc:
        raise SeldonError(f"{server} cannot predict on this input: {exc}") from exc
