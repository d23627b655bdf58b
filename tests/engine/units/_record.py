"""Feedback recording for the test units: one JSON line per send_feedback call, in the file $FEEDBACK_LOG."""

import json
import os

import numpy as np


def record(unit, features, reward, truth, routing):
    path = os.environ.get("FEEDBACK_LOG")
    if not path:
        return
    entry = {
        "unit": unit,
        "features": np.asarray(features).tolist(),
        "reward": float(reward),
        "truth": None if truth is None else np.asarray(truth).tolist(),
        "routing": routing,
    }
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
