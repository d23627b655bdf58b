"""One local unit process: started in its own process group with its log file, stopped with its children."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from seldon_graph.operator.local import probes
from seldon_graph.operator.local.unit_spec import EnvVar, Probe

STARTING, READY, FAILED = "Starting", "Ready", "Failed"
BACKOFF = "CrashLoopBackOff"  # exited; started again once its back-off delay has passed
LOG_TAIL_LINES = 20


def child_env(env: Iterable[EnvVar]) -> dict[str, str]:
    """The host env (PATH with this Python's bin first) plus the rendered container env.

    The working directory is not put on PYTHONPATH: the wrapper appends it to sys.path itself, as Seldon's does,
    so a user folder named like a stdlib module (e.g. this repository's `operator/`) cannot shadow it.
    """
    full = dict(os.environ)
    full["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full.get('PATH', '')}"
    full["PYTHONUNBUFFERED"] = "1"
    full.update({var.name: var.value for var in env})
    return full


def spawn(argv: list[str], env: dict[str, str], cwd: str, log_path: Path) -> subprocess.Popen:
    """Start `argv` in a new session (its own process group), stdout+stderr appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )


def signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def stop_all(procs: list[subprocess.Popen], grace: float = 10.0) -> None:
    """SIGTERM every process group (they drain), wait up to `grace` seconds, then SIGKILL what is left."""
    for proc in procs:
        signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in procs:
        signal_group(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(2)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        return []


# a log line that reports a failure: an exception's name or an ERROR/FATAL/CRITICAL level
ERROR_LINE = re.compile(r"\b(\w*(Error|Exception)\b|ERROR|FATAL|CRITICAL)")
TRACEBACK_START = "Traceback (most recent call last)"
ERROR_SEARCH_LINES = 200


def failure_line(path: Path) -> str:
    """The line of a unit's log that best says why it stopped: the last error it reported among its last lines (a
    traceback's exception line, or a line naming an error), since servers such as MLServer log their shutdown after
    the error; else its last line."""
    lines = [line.rstrip() for line in tail(path, ERROR_SEARCH_LINES) if line.strip()]
    found, in_traceback = "", False
    for line in lines:
        if line.startswith(TRACEBACK_START):
            in_traceback = True
        elif in_traceback and not line[0].isspace():
            found, in_traceback = line, False  # the exception that ended the traceback, whatever its name
        elif not in_traceback and ERROR_LINE.search(line):
            found = line
    return (found or (lines[-1] if lines else "")).strip()


class ProcessLayer(NamedTuple):
    """How the supervisor starts, stops and probes unit processes: the real ones here, a fake in fast tests."""

    spawn: Callable[[list[str], dict[str, str], str, Path], subprocess.Popen]
    stop_all: Callable[[list[subprocess.Popen]], None]
    ready: Callable[[Probe], bool]


REAL_PROCESSES = ProcessLayer(spawn=spawn, stop_all=stop_all, ready=probes.ready)
