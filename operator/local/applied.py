"""What the supervisor holds for each applied SeldonDeployment: its plan, its running units and their state."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from seldon_graph.operator.local import probes
from seldon_graph.operator.local.process import FAILED, READY, STARTING, tail
from seldon_graph.operator.local.topology import Topology
from seldon_graph.operator.local.unit_launcher import FAILED as PHASE_FAILED
from seldon_graph.operator.local.unit_launcher import PREPARING, read_phase
from seldon_graph.operator.local.unit_plan import ENGINE_CONTAINER, LocalPlan
from seldon_graph.operator.local.unit_spec import UnitSpec

CREATING, AVAILABLE, FAILED_STATE = "Creating", "Available", "Failed"


@dataclass
class RunningUnit:
    spec: UnitSpec
    proc: subprocess.Popen
    log: Path
    started: float = field(default_factory=time.monotonic)
    state: str = STARTING
    reason: str = ""
    preparing: bool = False  # the unit launcher is still downloading models or installing packages

    @property
    def is_engine(self) -> bool:
        return self.spec.container == ENGINE_CONTAINER

    def observe(self, ready_timeout: float) -> None:
        """Move Starting → Ready when the probe passes; → Failed when the process exits or never gets ready."""
        if self.state == FAILED:
            return
        phase, message = read_phase(self.spec.phase_file) if self.spec.phase_file else ("", "")
        code = self.proc.poll()
        self.preparing = phase == PREPARING and code is None
        if code is not None:
            self.state, self.reason = FAILED, message if phase == PHASE_FAILED else self._exit_reason(code)
        elif self.preparing:
            self.reason = message  # downloads and installs do not count against the readiness timeout
            self.started = time.monotonic()
        elif self.state == STARTING:
            self.reason = ""
            if probes.ready(self.spec.probe):
                self.state = READY
            elif time.monotonic() - self.started > ready_timeout:
                self.state, self.reason = FAILED, f"not ready after {ready_timeout:.0f}s ({self.spec.probe.kind} probe)"

    def _exit_reason(self, code: int) -> str:
        last = next((line.strip() for line in reversed(tail(self.log)) if line.strip()), "")
        return f"process exited with code {code}" + (f": {last}" if last else "")

    def to_status(self, retiring: bool = False) -> dict:
        return {
            "name": self.spec.name,
            "instance": self.spec.instance,
            "retiring": retiring,
            "pid": self.proc.pid,
            "state": self.state,
            "reason": self.reason,
            "ports": dict(self.spec.ports),
            "command": list(self.spec.argv),
            "log": str(self.log),
        }


@dataclass
class Applied:
    """One SeldonDeployment as applied: the generation it came from and everything started for it."""

    key: str
    namespace: str
    name: str
    generation: str
    ingress: str
    manifest: dict | None = None
    plan: LocalPlan | None = None
    error: str = ""
    units: dict[str, RunningUnit] = field(default_factory=dict)
    topology: Topology | None = None
    oauth: tuple[str, str] | None = None
    # the previous pod instances, still serving until this generation's units are all ready
    retiring: list[RunningUnit] = field(default_factory=list)
    # what the ingress routes to: (ingress objects, topology) of the generation that serves now
    serving: tuple[list[dict], Topology] | None = None

    @property
    def waiting(self) -> bool:
        """The ingress does not route to this generation yet (new, or rolling out); it will once it is ready."""
        current = self.serving is not None and self.serving[1] is self.topology
        return not self.error and self.topology is not None and not current

    @property
    def rolling(self) -> bool:
        """A rollout is in progress: the ingress still routes to the previous pod instances."""
        return bool(self.retiring) and (self.serving is None or self.serving[1] is not self.topology)

    def all_units(self) -> list[RunningUnit]:
        return [*self.units.values(), *self.retiring]

    def observe(self, ready_timeout: float) -> None:
        """Observe every unit; while one prepares, the others' readiness clocks wait too (an engine is not ready
        before its models are)."""
        units = self.all_units()
        for unit in units:
            unit.observe(ready_timeout)
        if any(u.preparing for u in units):
            now = time.monotonic()
            for unit in units:
                unit.started = now

    @property
    def annotations(self) -> dict:
        """spec.annotations over metadata.annotations, as the operator reads `seldon.io/ambassador-*`."""
        manifest = self.manifest or {}
        return {
            **((manifest.get("metadata") or {}).get("annotations") or {}),
            **((manifest.get("spec") or {}).get("annotations") or {}),
        }

    @property
    def external_name(self) -> str:
        """The name in the ingress path and `seldon` metadata (Ambassador honours seldon.io/ambassador-service-name)."""
        if self.ingress == "ambassador":
            return self.annotations.get("seldon.io/ambassador-service-name") or self.name
        return self.name

    @property
    def header(self) -> str:
        """The custom header match (`seldon.io/ambassador-header`, "name:value") requests must carry, if any."""
        return self.annotations.get("seldon.io/ambassador-header", "") if self.ingress == "ambassador" else ""

    def state(self, ingress_active: bool) -> tuple[str, str, dict | None]:
        """(state, description, failed unit status with log tail)."""
        if self.error:
            return FAILED_STATE, self.error, None
        for unit in self.units.values():
            if unit.state == FAILED:
                failed = {**unit.to_status(), "log_tail": tail(unit.log)}
                return FAILED_STATE, f"unit {unit.spec.name} failed: {unit.reason}", failed
        if all(u.state == READY for u in self.units.values()) and ingress_active and not self.retiring:
            return AVAILABLE, "", None
        return CREATING, "", None
