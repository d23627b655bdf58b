"""Which units a new generation of a deployment keeps, lets serve until their replacements are ready, or stops now.

Kubernetes replaces a pod whose template changed by starting the new pod first (maxUnavailable 0); locally a
changed pod template is a new pod instance with its own ports, so old and new run side by side for a moment.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import NamedTuple

from seldon_graph.operator.local.applied import Applied, RunningUnit
from seldon_graph.operator.local.process import FAILED, READY, stop_all
from seldon_graph.operator.local.unit_spec import UnitSpec


class Handover(NamedTuple):
    """What a new generation takes over from the previous one."""

    keep: dict[str, RunningUnit]  # units kept as they are, by name
    retire_later: list[RunningUnit]  # units that keep serving until their replacements are ready


StopAll = Callable[[list[subprocess.Popen]], None]


def handover(previous: Applied, wanted: dict[str, UnitSpec], stop: StopAll = stop_all) -> Handover:
    """The units kept and those retired later; everything else is stopped now: failed units, units that never
    served, and units whose pod instance (and so local ports) a new unit needs."""
    keep: dict[str, RunningUnit] = {}
    retire_later, stop_now = [], []
    for unit in previous.retiring:  # back to what is still serving (e.g. after a failed rollout): keep it
        spec = wanted.get(unit.spec.name)
        if spec is not None and spec.fingerprint() == unit.spec.fingerprint() and unit.state == READY:
            keep[unit.spec.name] = unit
        else:
            retire_later.append(unit)
    for name, unit in previous.units.items():
        spec = wanted.get(name)
        if (
            name not in keep
            and spec is not None
            and spec.fingerprint() == unit.spec.fingerprint()
            and unit.state != FAILED
        ):
            keep[name] = unit
        elif (
            name not in keep
            and not previous.rolling
            and unit.state == READY
            and (spec is None or spec.instance != unit.spec.instance)
        ):
            retire_later.append(unit)
        else:
            stop_now.append(unit)
    needed = {spec.instance for name, spec in wanted.items() if name not in keep}
    stop_now += [u for u in retire_later if u.spec.instance in needed]
    stop_units(stop_now, stop)
    return Handover(keep, [u for u in retire_later if u.spec.instance not in needed])


def stop_units(units: list[RunningUnit], stop: StopAll = stop_all) -> None:
    """Engines first (they drain what is in flight), then the units they call."""
    stop([u.proc for u in units if u.is_engine])
    stop([u.proc for u in units if not u.is_engine])
