"""What the supervisor holds for each applied SeldonDeployment: its plan, its running units and their state."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from seldon_graph.labels import AMBASSADOR_HEADER_ANNOTATION, AMBASSADOR_SERVICE_NAME_ANNOTATION
from seldon_graph.operator.local import probes
from seldon_graph.operator.local.process import BACKOFF, FAILED, READY, STARTING, failure_line, tail
from seldon_graph.operator.local.restart_policy import KUBELET, CrashLoopBackOff, exit_reason
from seldon_graph.operator.local.topology import Topology
from seldon_graph.operator.local.unit_launcher import FAILED as PHASE_FAILED
from seldon_graph.operator.local.unit_launcher import PREPARING, read_phase
from seldon_graph.operator.local.unit_plan import ENGINE_CONTAINER, LocalPlan
from seldon_graph.operator.local.unit_spec import Probe, UnitSpec
from seldon_graph.sdep import SeldonDeployment

CREATING, AVAILABLE, FAILED_STATE = "Creating", "Available", "Failed"


class Serving(NamedTuple):
    """What the ingress routes one deployment to: the ingress objects and topology of the generation serving now."""

    ingress_objects: list[dict]
    topology: Topology


class OAuthCredentials(NamedTuple):
    """spec.oauth_key / spec.oauth_secret: the client credentials that get a token for this deployment."""

    key: str
    secret: str


class DeploymentState(NamedTuple):
    """A deployment's state, why (when Failed), and the failed unit's status with its log tail."""

    state: str
    description: str = ""
    failed_unit: dict | None = None


@dataclass
class RunningUnit:
    """One container's process and what was observed of it: readiness, and its restarts after it exited."""

    spec: UnitSpec
    proc: subprocess.Popen
    log: Path
    started: float = field(default_factory=time.monotonic)
    state: str = STARTING
    reason: str = ""
    restarts: int = 0
    crashes: int = 0  # in a row, for the back-off; a long run starts counting again
    last_exit: str = ""
    restart_at: float = 0.0
    has_been_ready: bool = False
    preparing: bool = False  # the unit launcher is still downloading models or installing packages

    @property
    def is_engine(self) -> bool:
        return self.spec.container == ENGINE_CONTAINER

    def observe(
        self,
        ready_timeout: float,
        ready: Callable[[Probe], bool] = probes.ready,
        policy: CrashLoopBackOff = KUBELET,
    ) -> None:
        """Move Starting → Ready when the probe passes, → CrashLoopBackOff when the process exits (until
        `restart`), → Failed when it never gets ready."""
        if self.state in (FAILED, BACKOFF):
            return
        phase, message = read_phase(self.spec.phase_file) if self.spec.phase_file else ("", "")
        code = self.proc.poll()
        now = time.monotonic()
        self.preparing = phase == PREPARING and code is None
        if code is not None and phase == PHASE_FAILED:
            self.state, self.reason = FAILED, message  # the launcher could not download or install: not retried
        elif code is not None:
            self.crashes = 1 if now - self.started >= policy.reset_after else self.crashes + 1
            delay = policy.delay(self.crashes)
            self.last_exit = exit_reason(code)
            self.restart_at = now + delay
            self.state = BACKOFF
            self.reason = f"{self._exit_reason(code)}; back-off {delay:g}s before restart {self.restarts + 1}"
        elif self.preparing:
            self.reason = message  # downloads and installs do not count against the readiness timeout
            self.started = now
        elif self.state == STARTING:
            self.reason = ""
            if ready(self.spec.probe):
                self.state, self.reason, self.has_been_ready = READY, "", True
            elif now - self.started > ready_timeout:
                self.state, self.reason = FAILED, f"not ready after {ready_timeout:.0f}s ({self.spec.probe.kind} probe)"

    def restart_due(self) -> bool:
        return self.state == BACKOFF and time.monotonic() >= self.restart_at

    def restarted(self, proc: subprocess.Popen) -> None:
        """The same container started again in `proc` after its back-off."""
        self.proc, self.started, self.state, self.reason = proc, time.monotonic(), STARTING, ""
        self.restarts += 1

    def _exit_reason(self, code: int) -> str:
        """How the process ended, with the log line that says why (what a user looks for first)."""
        last = failure_line(self.log)
        return exit_reason(code) + (f": {last}" if last else "")

    def to_status(self, retiring: bool = False) -> dict:
        return {
            "name": self.spec.name,
            "instance": self.spec.instance,
            "retiring": retiring,
            "pid": self.proc.pid,
            "state": self.state,
            "reason": self.reason,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "ports": {p.name: p.port for p in self.spec.ports},
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
    sdep: SeldonDeployment | None = None
    plan: LocalPlan | None = None
    error: str = ""
    units: dict[str, RunningUnit] = field(default_factory=dict)
    topology: Topology | None = None
    oauth: OAuthCredentials | None = None
    # the previous pod instances, still serving until this generation's units are all ready
    retiring: list[RunningUnit] = field(default_factory=list)
    serving: Serving | None = None

    @property
    def waiting(self) -> bool:
        """The ingress does not route to this generation yet (new, or rolling out); it will once it is ready."""
        current = self.serving is not None and self.serving.topology is self.topology
        return not self.error and self.topology is not None and not current

    @property
    def rolling(self) -> bool:
        """A rollout is in progress: the ingress still routes to the previous pod instances."""
        return bool(self.retiring) and (self.serving is None or self.serving.topology is not self.topology)

    def planned_serving(self) -> Serving | None:
        """What the ingress routes to once this generation serves: its plan's ingress objects on its topology."""
        if self.plan is None or self.topology is None:
            return None
        return Serving(self.plan.ingress_objects, self.topology)

    def all_units(self) -> list[RunningUnit]:
        return [*self.units.values(), *self.retiring]

    def observe(
        self,
        ready_timeout: float,
        ready: Callable[[Probe], bool] = probes.ready,
        policy: CrashLoopBackOff = KUBELET,
    ) -> None:
        """Observe every unit; while one prepares, the others' readiness clocks wait too (an engine is not ready
        before its models are)."""
        units = self.all_units()
        for unit in units:
            unit.observe(ready_timeout, ready, policy)
        if any(u.preparing for u in units):
            now = time.monotonic()
            for unit in units:
                unit.started = now

    def annotation(self, key: str) -> str:
        """spec.annotations over metadata.annotations, as the operator reads `seldon.io/ambassador-*`."""
        return (self.sdep.annotation(key) if self.sdep else None) or ""

    @property
    def external_name(self) -> str:
        """The name in the ingress path and `seldon` metadata (Ambassador honours seldon.io/ambassador-service-name)."""
        if self.ingress == "ambassador":
            return self.annotation(AMBASSADOR_SERVICE_NAME_ANNOTATION) or self.name
        return self.name

    @property
    def header(self) -> str:
        """The custom header match (`seldon.io/ambassador-header`, "name:value") requests must carry, if any."""
        return self.annotation(AMBASSADOR_HEADER_ANNOTATION) if self.ingress == "ambassador" else ""

    def state(self, ingress_active: bool) -> DeploymentState:
        if self.error:
            return DeploymentState(FAILED_STATE, self.error)
        for unit in self.units.values():
            # a unit that exited before it ever served is failing, not recovering (it is restarted all the same)
            crash_looping = not unit.has_been_ready and (unit.state == BACKOFF or unit.restarts > 0)
            if unit.state == FAILED or crash_looping:
                failed = {**unit.to_status(), "log_tail": tail(unit.log)}
                reason = unit.reason or f"{unit.last_exit} (restarted {unit.restarts} times)"
                return DeploymentState(FAILED_STATE, f"unit {unit.spec.name} failed: {reason}", failed)
        if all(u.state == READY for u in self.units.values()) and ingress_active and not self.retiring:
            return DeploymentState(AVAILABLE)
        for unit in self.units.values():
            if unit.state != READY and unit.has_been_ready:  # unavailable until its restart is ready again
                return DeploymentState(CREATING, f"unit {unit.spec.name} is restarting after: {unit.last_exit}")
        return DeploymentState(CREATING)


def oauth_credentials(sdep: SeldonDeployment) -> OAuthCredentials | None:
    """The deployment's OAuth client credentials, when spec.oauth_key asks for the token service."""
    spec = sdep.spec
    return OAuthCredentials(spec.oauth_key, spec.oauth_secret or "") if spec and spec.oauth_key else None
