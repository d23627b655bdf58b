"""The CLI side of the state-directory contract: ask for deployments, start a supervisor, wait, read status."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import yaml

from seldon_graph.operator.local.applied import AVAILABLE, FAILED_STATE
from seldon_graph.operator.local.desired_objects import load, local_settings
from seldon_graph.operator.local.home import Home, deployment_key, read_json, write_json
from seldon_graph.operator.local.process import pid_alive, signal_group
from seldon_graph.operator.local.resources import KINDS as RESOURCE_KINDS
from seldon_graph.operator.local.resources import from_document
from seldon_graph.sdep import SdepError, SeldonDeployment

DEFAULT_PORT = 8003
SETTLED = (AVAILABLE, FAILED_STATE)
SUPERVISOR_START_GRACE = 20.0  # a new supervisor may wait up to 15 s for the previous one to let go
# documents published beside SeldonDeployments that create nothing locally: a namespace here is only a name
IGNORED_KINDS = (("v1", "Namespace"),)


class UsageError(Exception):
    """A user mistake the CLI reports in one clear line (exit code 2)."""


class Manifest(NamedTuple):
    """One SeldonDeployment as written (what the supervisor is asked to run) and its validated typed model."""

    document: dict
    sdep: SeldonDeployment


class Manifests(NamedTuple):
    """What one `up` file holds: SeldonDeployments, and the Secret/ConfigMap documents they may refer to."""

    deployments: list[Manifest]
    resources: list[dict]


@dataclass(frozen=True)
class UpRequest:
    """What `up` asks for besides each manifest: routing kind, working directory, image sources, resources."""

    ingress: str
    cwd: str
    sources: dict[str, str] = field(default_factory=dict)
    resources: list[dict] = field(default_factory=list)
    refresh: bool = False


def read_manifests(path: Path, ingress: str) -> Manifests:
    """Every SeldonDeployment document of a YAML/JSON file, validated once with the settings the supervisor renders
    with for `ingress`, and its Secrets and ConfigMaps (Namespace documents are skipped); UsageError saying what is
    wrong."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
        docs = [d for d in yaml.safe_load_all(text) if d is not None and not _ignored(d)]
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {exc}".replace("\n", " ")) from None
    resources = [d for d in docs if isinstance(d, dict) and d.get("kind") in RESOURCE_KINDS]
    deployments = [d for d in docs if not (isinstance(d, dict) and d.get("kind") in RESOURCE_KINDS)]
    if not deployments:
        raise UsageError(f"{path} holds no SeldonDeployment")
    for doc in resources:
        try:
            from_document(doc)
        except ValueError as exc:
            raise UsageError(f"{path}: {exc}") from None
    settings = local_settings(ingress)
    manifests = []
    for doc in deployments:
        try:
            manifests.append(Manifest(doc, load(doc, settings)))
        except SdepError as exc:
            name = (doc.get("metadata") or {}).get("name", "?") if isinstance(doc, dict) else "?"
            raise UsageError(f"{path}: SeldonDeployment {name!r} is invalid:\n  " + "\n  ".join(exc.errors)) from None
    return Manifests(manifests, resources)


def _ignored(doc: object) -> bool:
    return isinstance(doc, dict) and (doc.get("apiVersion"), doc.get("kind")) in IGNORED_KINDS


def request(home: Home, manifest: Manifest, asked: UpRequest) -> tuple[str, str]:
    """Write the desired state of one deployment; returns (key, generation). A Failed one is retried, and
    `refresh` starts it again (its units fetch their models anew)."""
    key = deployment_key(manifest.sdep.namespace, manifest.sdep.name)
    document = manifest.document
    attempt = 0
    previous = read_json(home.desired_path(key)) or {}
    status = read_json(home.status_path(key)) or {}
    asked_for = [document, asked.ingress, asked.cwd, {"sources": asked.sources, "resources": asked.resources}]
    base = _generation(asked_for, 0)
    if previous.get("base") == base:
        retry = status.get("state") == FAILED_STATE or asked.refresh
        attempt = previous.get("attempt", 0) + (1 if retry else 0)
    generation = _generation(asked_for, attempt)
    write_json(
        home.desired_path(key),
        {
            "manifest": document,
            "ingress": asked.ingress,
            "cwd": asked.cwd,
            "sources": asked.sources,
            "resources": asked.resources,
            "refresh": asked.refresh,
            "generation": generation,
            "base": base,
            "attempt": attempt,
        },
    )
    return key, generation


def _generation(asked_for: list, attempt: int) -> str:
    text = json.dumps([*asked_for, attempt], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def withdraw(home: Home, keys: list[str]) -> None:
    for key in keys:
        home.desired_path(key).unlink(missing_ok=True)


def spawn_supervisor(home: Home, port: int) -> subprocess.Popen:
    """Start a detached supervisor daemon (own session; survives this CLI)."""
    home.root.mkdir(parents=True, exist_ok=True)
    with open(home.supervisor_log, "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "seldon_graph.operator.local.deployment_supervisor",
                "--home",
                str(home.root),
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=str(home.root),
        )


def wait_settled(
    home: Home,
    wanted: dict[str, str],
    timeout: float,
    on_status: Callable[[dict], None] = lambda s: None,
    port: int | None = None,
    interrupted: Callable[[], bool] = lambda: False,
) -> dict[str, dict]:
    """Wait until each key's status is for its generation and Available or Failed (or `interrupted()`);
    statuses by key.

    With `port`, a supervisor is (re)started whenever none runs: one that was just exiting because nothing was
    desired any more may have missed what we asked for."""
    started, spawned = time.monotonic(), None
    while True:
        if port is not None and (spawned is None or spawned.poll() is not None) and not home.supervisor_running():
            spawned = spawn_supervisor(home, port)
        statuses, writer = home.statuses(), _live_supervisor_pid(home)
        current = {k: v if v and v.get("supervisor_pid") == writer else None for k, v in statuses.items()}
        current = {k: current.get(k) for k in wanted}
        for key, status in current.items():
            if status and status.get("generation") == wanted[key]:
                on_status(status)
        settled = {
            k: s for k, s in current.items() if s and s.get("generation") == wanted[k] and s.get("state") in SETTLED
        }
        if len(settled) == len(current):
            return settled
        if time.monotonic() - started > timeout or interrupted():
            return {k: s or {"state": "Unknown", "description": "no status"} for k, s in current.items()}
        if port is None and time.monotonic() - started > SUPERVISOR_START_GRACE and not home.supervisor_running():
            log = home.supervisor_log.read_text(errors="replace")[-2000:] if home.supervisor_log.exists() else ""
            raise UsageError(f"the supervisor is not running (log {home.supervisor_log}):\n{log}")
        time.sleep(0.1)


def _live_supervisor_pid(home: Home) -> int | None:
    """The pid of the supervisor serving `home` now, once it has published itself; statuses written by any other
    (one that was killed) describe processes it no longer watches."""
    record = home.supervisor() or {}
    pid = record.get("pid")
    return pid if pid and pid_alive(pid) else None


def left_behind(home: Home) -> int | None:
    """The pid of a supervisor that died without cleaning up (SIGKILL, OOM), when its record is still there."""
    if home.supervisor_running():
        return None
    pid = (read_json(home.supervisor_file) or {}).get("pid")
    return pid if pid and not pid_alive(pid) else None


def wait_gone(home: Home, keys: list[str], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(home.status_path(k).exists() for k in keys) or not home.supervisor_running():
            return True
        time.sleep(0.1)
    return False


def recorded_pids(home: Home, keys: list[str] | None = None) -> list[int]:
    """Every pid the state directory records for `keys` (all deployments when None), plus ingress processes."""
    pids = []
    for key, status in home.statuses().items():
        if keys is None or key in keys:
            pids += [u["pid"] for u in status.get("units", []) if u.get("pid")]
    if keys is None:
        record = read_json(home.supervisor_file) or {}
        pids += [p for p in (record.get("envoy_pid"), record.get("oauth_pid"), record.get("pid")) if p]
    return pids


def kill_stale(home: Home, keys: list[str] | None = None) -> None:
    """Without a supervisor: kill what a dead one left behind and forget its status."""
    for pid in recorded_pids(home, keys):
        if pid != os.getpid() and pid_alive(pid):
            signal_group(pid, signal.SIGKILL)
    for key in keys if keys is not None else list(home.statuses()):
        home.status_path(key).unlink(missing_ok=True)
    if keys is None:
        home.supervisor_file.unlink(missing_ok=True)
