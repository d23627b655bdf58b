"""What one local process is: the command, env and readiness probe of one container of one rendered pod."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class Probe:
    """Readiness: `tcp` (connect), `http` (GET `path` answers 200) or `alive` (the process keeps running)."""

    kind: str
    port: int = 0
    path: str = "/"


class EnvVar(NamedTuple):
    name: str
    value: str


class UnitPort(NamedTuple):
    """A container port (its name, or its number when unnamed) and the local port it listens on."""

    name: str
    port: int


class UnitFile(NamedTuple):
    """A file written before the unit starts (e.g. the engine's /etc/podinfo/annotations)."""

    path: str
    content: str


@dataclass(frozen=True, kw_only=True)
class UnitSpec:
    """A container to run locally; `name` is `<pod>/<container>`, unique within the namespace."""

    name: str
    pod: str
    container: str
    instance: str  # `<pod>@<revision>`: units of one pod instance start and stop together in a rollout
    argv: tuple[str, ...]
    env: tuple[EnvVar, ...]
    cwd: str
    probe: Probe
    ports: tuple[UnitPort, ...] = ()
    files: tuple[UnitFile, ...] = ()
    phase_file: str = ""  # where the unit launcher reports preparation (model download, env install) and failure

    def port(self, name: str) -> int:
        """The local port of the container port `name`."""
        return next(p.port for p in self.ports if p.name == name)

    def fingerprint(self) -> str:
        """Same spec, same fingerprint: a unit is restarted only when this changes."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]
