"""scripts/build-images.sh builds both images, and each image's filesystem runs its entrypoints.

Containers cannot be run on this machine, so each image is mounted (`podman create` + `podman mount`) and its
configured command (entrypoint, env, user, working directory from `podman image inspect`) runs under `chroot`: the
engine's and the operator's `--help`, and a model image built from examples/model-image/ with its own Dockerfile
answering a prediction on 127.0.0.1. Builds from the mmdebstrap base (`--base`), since python:3.11-slim cannot be
pulled here; CI installs podman and mmdebstrap (.ci/run).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import requests

from seldon_graph.images import ImageNames, image_names
from tests.support.procs import free_port, running

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "model-image"
EXAMPLE_IMAGE = "localhost/seldon-graph-example-model:test"
USER_ID = "8888"


def _missing_tools() -> str | None:
    if os.geteuid() != 0:
        return "building and mounting images with podman, and chroot, need root"
    for tool in ("podman", "mmdebstrap", "chroot"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install podman mmdebstrap; .ci/run does it)"
    return None


def _run(*args: str, timeout: float = 120) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


class ImageConfig(NamedTuple):
    """What a container runtime would take from the image to start it."""

    command: list[str]
    env: list[str]
    user: str
    workdir: str


def _config(image: str) -> ImageConfig:
    config = json.loads(_run("podman", "image", "inspect", "--format", "{{json .Config}}", image))
    return ImageConfig(
        command=(config.get("Entrypoint") or []) + (config.get("Cmd") or []),
        env=config.get("Env") or [],
        user=config.get("User") or "0",
        workdir=config.get("WorkingDir") or "/",
    )


@contextlib.contextmanager
def _mounted(image: str) -> Iterator[Path]:
    """A fresh container's root filesystem with the /dev a container runtime provides (gone with the container)."""
    container = _run("podman", "create", image).strip()
    try:
        root = Path(_run("podman", "mount", container).strip())
        for name, minor in (("null", 3), ("zero", 5), ("random", 8), ("urandom", 9)):
            if not (root / "dev" / name).exists():  # the mmdebstrap base has them, python:3.11-slim has not
                _run("mknod", "-m", "666", str(root / "dev" / name), "c", "1", str(minor))
        (root / "dev" / "shm").mkdir(exist_ok=True)
        (root / "dev" / "shm").chmod(0o1777)
        yield root
    finally:
        subprocess.run(["podman", "rm", "--force", container], capture_output=True, timeout=120)


def _chroot_command(root: Path, config: ImageConfig, command: list[str], env: dict[str, str]) -> list[str]:
    """`command` as the image's user, in its working directory, with only the image's and `env`'s variables."""
    variables = config.env + [f"{k}={v}" for k, v in env.items()]
    enter = 'cd "$0" && exec "$@"'
    return [
        "chroot",
        f"--userspec={config.user}:{config.user}",
        str(root),
        "/usr/bin/env",
        "-i",
        *variables,
        "/bin/sh",
        "-c",
        enter,
        config.workdir,
        *command,
    ]


@pytest.fixture(scope="module")
def images() -> ImageNames:
    missing = _missing_tools()
    if missing:
        pytest.skip(missing)
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-images.sh"), "--base"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1700,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    names = image_names()
    assert result.stdout.split() == [names.runtime, names.model]
    return names


def test_runtime_image_runs_the_engine_as_its_entrypoint(images):
    config = _config(images.runtime)
    assert config.user == USER_ID and config.command == ["seldon-engine"]
    with _mounted(images.runtime) as root:
        assert (
            not (root / "usr" / "bin" / "gcc").exists() and not (root / "opt" / "seldon-graph" / "bin" / "pip").exists()
        )
        help_text = _run(*_chroot_command(root, config, [*config.command, "--help"], {}))
    assert "usage: seldon-engine" in help_text and "--predictor" in help_text


def test_runtime_image_holds_the_operator_and_the_wrapper(images):
    config = _config(images.runtime)
    with _mounted(images.runtime) as root:
        operator_help = _run(*_chroot_command(root, config, ["seldon-operator", "--help"], {}))
        wrapper_help = _run(*_chroot_command(root, config, ["seldon-core-microservice", "--help"], {}))
    assert "usage: seldon-operator" in operator_help and "--webhook-port" in operator_help
    assert "usage: seldon-core-microservice" in wrapper_help


def test_example_model_folder_built_on_the_model_image_answers_a_prediction(images, tmp_path):
    dockerfile = (EXAMPLE / "Dockerfile").read_text()
    assert f"FROM {images.model}\n" in dockerfile
    _run("podman", "build", "--quiet", "--isolation", "chroot", "--tag", EXAMPLE_IMAGE, str(EXAMPLE), timeout=600)
    config = _config(EXAMPLE_IMAGE)
    assert config.user == USER_ID and config.workdir == "/microservice"
    from_file = {"MODEL_NAME", "SERVICE_TYPE", "PERSISTENCE"}  # read from the folder's environment file
    assert not any(v.split("=", 1)[0] in from_file for v in config.env)
    http_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    ports = {
        "PREDICTIVE_UNIT_HTTP_SERVICE_PORT": str(http_port),
        "PREDICTIVE_UNIT_GRPC_SERVICE_PORT": str(grpc_port),
        "PREDICTIVE_UNIT_METRICS_SERVICE_PORT": str(metrics_port),
    }
    with (
        _mounted(EXAMPLE_IMAGE) as root,
        running(
            _chroot_command(root, config, config.command, ports),
            tmp_path / "model.log",
            ready_url=f"http://127.0.0.1:{http_port}/health/ping",
        ),
    ):
        response = requests.post(
            f"http://127.0.0.1:{http_port}/api/v1.0/predictions", json={"data": {"ndarray": [[1, 2]]}}, timeout=10
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["ndarray"] == [[2, 4]]


def test_model_image_rejects_a_malformed_environment_file(images, tmp_path):
    config = _config(images.model)
    with _mounted(images.model) as root:
        (root / "microservice" / "environment").write_text("MODEL NAME=MyModel\n")
        result = subprocess.run(
            _chroot_command(root, config, config.command, {}), capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2 and "not a KEY=VALUE line: MODEL NAME=MyModel" in result.stderr
