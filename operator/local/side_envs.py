"""Virtualenvs beside the project's own: a model's requirements or a prepackaged server's packages, built once.

Each is keyed by its requirements (and the Python version) and kept under the state home's envs/ folder (or
$SELDON_GRAPH_ENVS), so a second `up` reuses it. A `.pth` file makes the project's own packages (the wrapper,
its dependencies) importable behind the env's packages; nothing is ever installed into the project's env. An
isolated env (a program that never imports the project, like MLServer) has no such link, so the project's
packages cannot stand in for ones the program's own pins leave out.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import site
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

COMPLETE = ".complete"
PROJECT_DISTRIBUTION = "seldon-graph"


class EnvError(RuntimeError):
    """The env cannot be built; the message is pip's own error line."""


def env_key(requirements: list[str], isolated: bool = False) -> str:
    """Same requirements, Python and project install: same env (its .pth names this project's site-packages)."""
    linked: object = "isolated" if isolated else site.getsitepackages()
    text = json.dumps([list(sys.version_info[:2]), sorted(requirements), linked])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def env_dir(envs: Path, label: str, requirements: list[str], isolated: bool = False) -> Path:
    return envs / f"{label}-{env_key(requirements, isolated)}"


def extra_requirements(extra: str) -> list[str]:
    """The requirements of one of the project's extras (setup.py is their only list)."""
    found = []
    clause = re.compile(rf"(\s+and\s+)?\(?extra\s*==\s*['\"]{re.escape(extra)}['\"]\)?")
    for requirement in metadata.requires(PROJECT_DISTRIBUTION) or []:
        spec, _, marker = requirement.partition(";")
        if clause.search(marker):
            rest = clause.sub("", marker).strip()
            found.append(f"{spec.strip()}; {rest}" if rest else spec.strip())
    if not found:
        raise EnvError(f"the {PROJECT_DISTRIBUTION} distribution declares no extra {extra!r}")
    return found


def ensure(
    envs: Path,
    label: str,
    requirements: list[str],
    say: Callable[[str], None] = print,
    isolated: bool = False,
) -> Path:
    """The bin/ folder of the env for `requirements`, built on first use under a lock (other units wait);
    `isolated`: without the link to the project's packages."""
    root = env_dir(envs, label, requirements, isolated)
    envs.mkdir(parents=True, exist_ok=True)
    with open(envs / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / COMPLETE).exists():
            say(f"reusing the {label} environment {root}")
            return root / "bin"
        say(f"installing {len(requirements)} requirement(s) into {root}: {' '.join(requirements)}")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True, stdout=subprocess.DEVNULL)
        if requirements:
            _pip_install(root, requirements)
        if not isolated:
            _link_project(root)
        (root / COMPLETE).write_text("\n".join(requirements))
        say(f"installed the {label} environment {root}")
    return root / "bin"


def _pip_install(root: Path, requirements: list[str]) -> None:
    """pip's output goes to this process's stdout (the unit log); its error line becomes EnvError's message."""
    argv = [str(root / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", *requirements]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    errors = []
    for line in proc.stdout or ():
        sys.stdout.write(line)
        if line.startswith("ERROR:"):
            errors.append(line.strip())
    if proc.wait() != 0:
        raise EnvError(errors[0] if errors else f"pip install exited with code {proc.returncode}")


def _link_project(root: Path) -> None:
    """After the env's own packages, the project's site-packages (with their .pth files, e.g. the editable link)."""
    purelib = subprocess.run(
        [str(root / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    lines = [f"import site; site.addsitedir({path!r})" for path in site.getsitepackages()]
    (Path(purelib) / "zz-seldon-graph-project.pth").write_text("\n".join(lines) + "\n")
