"""The state directory of the local runtime: the file-based contract between the CLI and the supervisor.

Layout under $SELDON_GRAPH_HOME (default ~/.seldon-graph):
  supervisor.lock / supervisor.json   the running supervisor (held lock, pid and ingress ports)
  desired/<ns>.<name>.json             what `up` asked for (manifest, ingress kind, working directory)
  status/<ns>.<name>.json              what the supervisor observed (state, units, pids, ports)
  logs/<ns>/<unit>.log                 stdout+stderr of each unit process
  ports.json                           the stable local port of each (pod, containerPort)
  envoy/                               Envoy bootstrap, xDS files and log
  podinfo/<ns>/<pod instance>/         the downward-API annotations file the engine reads
  phases/<ns>/<unit>.phase             what a unit launcher is preparing, or why it failed
  server-files/<ns>/<unit>/            what a server writes while it runs (MLServer's metrics)
  models/<hash of URI>/                model URIs as downloaded (reused until `up --refresh`)
  envs/<label>-<hash>/                 virtualenvs of source folders and prepackaged servers ($SELDON_GRAPH_ENVS)
Files are written owner-only (desired/ holds the Secrets given to `up`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ENV_HOME = "SELDON_GRAPH_HOME"
ENV_ENVS = "SELDON_GRAPH_ENVS"  # virtualenvs elsewhere, e.g. shared by several state homes (CI's cache)


def default_home() -> Path:
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".seldon-graph")


def write_json(path: Path, value: object) -> None:
    """Write atomically (temp file + rename) so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        json.dump(value, out, indent=1, sort_keys=True)
    os.replace(tmp, path)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def deployment_key(namespace: str, name: str) -> str:
    return f"{namespace}.{name}"


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, root: str | Path | None = None) -> Home:
        return cls(Path(root).expanduser().resolve() if root else default_home())

    @property
    def desired_dir(self) -> Path:
        return self.root / "desired"

    @property
    def status_dir(self) -> Path:
        return self.root / "status"

    @property
    def podinfo_dir(self) -> Path:
        return self.root / "podinfo"

    @property
    def envoy_dir(self) -> Path:
        return self.root / "envoy"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def envs_dir(self) -> Path:
        return Path(os.environ[ENV_ENVS]).resolve() if os.environ.get(ENV_ENVS) else self.root / "envs"

    def phases_dir(self, namespace: str) -> Path:
        return self.root / "phases" / namespace

    def server_files_dir(self, namespace: str) -> Path:
        """Files servers write while they run (MLServer's multiprocess metrics), kept out of the working dir."""
        return self.root / "server-files" / namespace

    @property
    def supervisor_file(self) -> Path:
        return self.root / "supervisor.json"

    @property
    def supervisor_log(self) -> Path:
        return self.root / "supervisor.log"

    @property
    def ports_file(self) -> Path:
        return self.root / "ports.json"

    def desired_path(self, key: str) -> Path:
        return self.desired_dir / f"{key}.json"

    def status_path(self, key: str) -> Path:
        return self.status_dir / f"{key}.json"

    def log_path(self, namespace: str, unit: str) -> Path:
        return self.root / "logs" / namespace / f"{unit.replace('/', '.')}.log"

    def desired(self) -> dict[str, dict]:
        return _read_all(self.desired_dir)

    def statuses(self) -> dict[str, dict]:
        return _read_all(self.status_dir)

    def supervisor(self) -> dict | None:
        """The running supervisor's record, or None when no supervisor holds the lock."""
        return read_json(self.supervisor_file) if self.supervisor_running() else None

    def supervisor_running(self) -> bool:
        with self.supervisor_lock() as held:
            return not held

    @contextlib.contextmanager
    def supervisor_lock(self) -> Iterator[bool]:
        """Hold the supervisor lock for a `with` block; yields False when another supervisor has it.

        flock is per open file, so this also sees a supervisor running inside the calling process."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "supervisor.lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _read_all(folder: Path) -> dict[str, dict]:
    found = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        value = read_json(path)
        if value is not None:
            found[path.stem] = value
    return found
