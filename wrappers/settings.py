"""What the operator tells a unit about itself through the environment, read once at startup.

These values shape responses (`meta.requestPath`), the feedback routing key, metric labels and default
metadata, exactly as the Seldon v1 wrapper reads them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

NOT_IMPLEMENTED = "NOT_IMPLEMENTED"


def split_image(image: str) -> tuple[str, str]:
    """(name, version) of a container image `name:tag` (the tag is whatever follows the last colon)."""
    *name, version = image.split(":")
    return ":".join(name), version


def _predictor_version(env: dict) -> str:
    try:
        labels = json.loads(env.get("PREDICTOR_LABELS", "{}"))
    except ValueError:
        return NOT_IMPLEMENTED
    return str(labels.get("version", NOT_IMPLEMENTED)) if isinstance(labels, dict) else NOT_IMPLEMENTED


@dataclass(frozen=True)
class UnitSettings:
    """The unit's identity and response options."""

    unit_id: str | None = None
    image: str | None = None
    include_metrics: bool = True
    metric_labels: dict = field(default_factory=dict)

    @property
    def request_path(self) -> dict:
        """The unit's own `requestPath` entry ({} when PREDICTIVE_UNIT_ID is unset)."""
        if self.unit_id is None:
            return {}
        return {self.unit_id: self.image or f"{NOT_IMPLEMENTED}:{NOT_IMPLEMENTED}"}

    @property
    def feedback_key(self) -> str:
        """The key under which this unit's routing decision is looked up in feedback."""
        return self.unit_id if self.unit_id is not None else "0"

    @classmethod
    def from_env(cls, env: dict | None = None) -> UnitSettings:
        env = dict(os.environ if env is None else env)
        image = env.get("PREDICTIVE_UNIT_IMAGE")
        model_image, model_version = split_image(image or f"{NOT_IMPLEMENTED}:{NOT_IMPLEMENTED}")
        deployment = env.get("SELDON_DEPLOYMENT_ID", NOT_IMPLEMENTED)
        labels = {
            "deployment_name": deployment,
            "model_name": env.get("PREDICTIVE_UNIT_ID", NOT_IMPLEMENTED),
            "model_image": model_image,
            "model_version": model_version,
            "predictor_name": env.get("PREDICTOR_ID", NOT_IMPLEMENTED),
            "predictor_version": _predictor_version(env),
            "seldon_deployment_name": deployment,
            "image_name": model_image,
            "image_version": model_version,
        }
        return cls(
            unit_id=env.get("PREDICTIVE_UNIT_ID"),
            image=image,
            include_metrics=env.get("INCLUDE_METRICS_IN_CLIENT_RESPONSE", "true").lower() == "true",
            metric_labels=labels,
        )
