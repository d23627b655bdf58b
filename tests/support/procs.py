"""Start real processes on 127.0.0.1 for end-to-end tests and always stop them, with their children."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

VENV_BIN = Path(sys.executable).parent


# Below Linux's ephemeral range (32768-60999): a port released there can be taken by any outgoing connection
# before the server under test binds it, which made whole modules fail to start on a busy machine.
_TEST_PORTS = range(20000, 32768)
_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port nobody listens on right now, outside the ephemeral range and not handed out before here."""
    for _ in range(2000):
        port = random.choice(_TEST_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {_TEST_PORTS}")


def wait_http(url: str, timeout: float = 30.0, status: int = 200, proc: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers `status`; fail early with the process's output if it died."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} was ready:\n{read_log(proc)}")
        try:
            response = requests.get(url, timeout=1)
            if response.status_code == status:
                return
            last = response.status_code
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout}s (last: {last})\n{read_log(proc) if proc else ''}")


def wait_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before port {port} opened:\n{read_log(proc)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} not open after {timeout}s\n{read_log(proc) if proc else ''}")


def read_log(proc: subprocess.Popen) -> str:
    path = getattr(proc, "log_path", None)
    return Path(path).read_text(errors="replace")[-4000:] if path and Path(path).exists() else ""


def start(args: list[str], log_path: Path, env: dict | None = None, cwd: str | Path | None = None) -> subprocess.Popen:
    """Start `args` in its own process group, stdout+stderr to `log_path`."""
    full_env = {**os.environ, **(env or {})}
    full_env["PATH"] = f"{VENV_BIN}{os.pathsep}{full_env.get('PATH', '')}"
    log = open(log_path, "wb")  # noqa: SIM115 - the child process keeps writing to it after we return
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=full_env, cwd=cwd, start_new_session=True)
    proc.log_path = str(log_path)
    return proc


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM the process group, then SIGKILL it if it has not exited in `timeout` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode


@contextlib.contextmanager
def running(args: list[str], log_path: Path, ready_url: str | None = None, **kwargs) -> Iterator[subprocess.Popen]:
    """A process for the duration of a `with` block, ready when `ready_url` answers 200."""
    proc = start(args, log_path, **kwargs)
    try:
        if ready_url:
            wait_http(ready_url, proc=proc)
        yield proc
    finally:
        stop(proc)
