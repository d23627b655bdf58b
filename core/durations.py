"""Go-style durations (`15s`, `500ms`, `1m30s`, `1.5h`) as seconds: the form of the executor's flags and of Istio's
timeouts, parsed in one place for the engine's flags and the Istio translation alike."""

from __future__ import annotations

import re

UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")


def duration_seconds(text: str, bare_unit: str | None = None, kind: str = "a duration") -> float:
    """Seconds in a Go duration such as `15s`, `500ms` or `1m30s`; ValueError when `text` is not one.

    A bare number is accepted only when `bare_unit` names its unit (the engine's flags take plain seconds);
    `kind` names the expected form in the error (e.g. "an Istio duration").
    """
    value = str(text).strip()
    if bare_unit is not None and _NUMBER.fullmatch(value):
        return float(value) * UNIT_SECONDS[bare_unit]
    parts = _PART.findall(value)
    if not value or "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"not {kind}: {text!r} (use e.g. 15s, 500ms or 1m30s)")
    return sum(float(number) * UNIT_SECONDS[unit] for number, unit in parts)
