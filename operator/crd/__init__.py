"""The SeldonDeployment CustomResourceDefinition shipped with the operator (built by operator/render/crd.py)."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

CRD_PATH = Path(__file__).resolve().parent / "seldondeployments.yaml"


@functools.cache
def _text() -> str:
    return CRD_PATH.read_text(encoding="utf-8")


def crd() -> dict:
    """The CRD as a dict (a fresh copy each call)."""
    return yaml.load(_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
