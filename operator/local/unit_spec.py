"""What one local process is: the command, env and readiness probe of one container of one rendered pod."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Probe:
    """Readiness: `tcp` (connect), `http` (GET `path` answers 200) or `alive` (the process keeps running)."""

    kind: str
    port: int = 0
    path: str = "/"


@dataclass(frozen=True)
class UnitSpec:
    """A container to run locally; `name` is `<pod>/<container>`, unique within the namespace."""

    name: str
    pod: str
    container: str
    instance: str  # `<pod>@<revision>`: units of one pod instance start and stop together in a rollout
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    cwd: str
    probe: Probe
    ports: tuple[tuple[str, int], ...] = field(default=())
    files: tuple[tuple[str, str], ...] = field(default=())  # (path, content) written before the unit starts
    phase_file: str = ""  # where the unit launcher reports preparation (model download, env install) and failure

    def fingerprint(self) -> str:
        """Same spec, same fingerprint: a unit is restarted only when this changes."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]
