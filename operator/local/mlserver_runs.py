"""How a container the operator rendered for MLServer (`protocol: v2` / `kfserving` prepackaged servers) runs
locally: as its image does, `mlserver start $MLSERVER_MODELS_DIR`, configured by the rendered MLSERVER_* env.

The image (seldonio/mlserver:<version>-<runtime>) holds MLServer and one inference runtime; locally they come
from an isolated side env of the project's extra for the runtime that MLSERVER_MODEL_IMPLEMENTATION's module
belongs to. A source folder `mlserver build` would build (its model-settings.json and custom runtime) runs the
same way from the env of MLServer alone plus the folder's requirements. Pure: the unit launcher builds the env and
execs `mlserver`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

IMPLEMENTATION_ENV = "MLSERVER_MODEL_IMPLEMENTATION"
MODELS_DIR_ENV = "MLSERVER_MODELS_DIR"
IMAGE_MODELS_DIR = "/mnt/models"  # the image's ENV MLSERVER_MODELS_DIR, the storage initializer's mount path
PROGRAM = "mlserver"
START_ARGS = ("start", f"$({MODELS_DIR_ENV})")  # the image's command: `mlserver start $MLSERVER_MODELS_DIR`
SOURCE_EXTRA = "mlserver"  # MLServer alone: what `mlserver build` images start from
# an inference runtime's top-level module → the project's extra holding MLServer and that runtime
RUNTIME_EXTRAS = {
    "mlserver_sklearn": "mlserver-sklearn",
    "mlserver_xgboost": "mlserver-xgboost",
    "mlserver_lightgbm": "mlserver-lightgbm",
    "mlserver_mlflow": "mlserver-mlflow",
    "mlserver_huggingface": "mlserver-huggingface",
}


class UnknownRuntime(ValueError):
    """MLSERVER_MODEL_IMPLEMENTATION names a module no runtime extra provides; the message names it."""


@dataclass(frozen=True)
class MLServerRun:
    """What the launcher needs: the extra to install, the program's args, and the env the image would set."""

    extra: str
    args: list[str]
    image_env: list[tuple[str, str]]  # before the manifest's env, which wins over it
    ready_path: str  # the readiness check: the model's own (the server's answers 200 once a failed model is dropped)


def is_mlserver(env: dict[str, str]) -> bool:
    """A rendered MLServer container is recognised by the env the operator gives it, not by its image name."""
    return IMPLEMENTATION_ENV in env


def mlserver_run(env: dict[str, str], files_dir: str) -> MLServerRun:
    """`mlserver start` of the rendered container with environment `env`; MLServer's own files (multiprocess
    metrics, tarball environments) go under `files_dir` instead of the working directory."""
    implementation = env[IMPLEMENTATION_ENV]
    module = implementation.partition(".")[0]
    if module not in RUNTIME_EXTRAS:
        known = ", ".join(sorted(RUNTIME_EXTRAS))
        raise UnknownRuntime(
            f"{IMPLEMENTATION_ENV}={implementation}: no local MLServer runtime provides module {module!r} "
            f"(known: {known})"
        )
    return MLServerRun(
        extra=RUNTIME_EXTRAS[module],
        args=list(START_ARGS),
        image_env=_image_env(IMAGE_MODELS_DIR, files_dir),
        ready_path=_ready_path(env),
    )


def source_run(env: dict[str, str], folder: str, files_dir: str) -> MLServerRun:
    """`mlserver start` of a source folder `mlserver build` would have copied into the image: its settings files
    and model code, configured by the rendered MLSERVER_* env where the files leave a setting out."""
    return MLServerRun(
        extra=SOURCE_EXTRA,
        args=list(START_ARGS),
        image_env=_image_env(folder, files_dir),
        ready_path=_ready_path(env),
    )


def _image_env(models_dir: str, files_dir: str) -> list[tuple[str, str]]:
    """The image's env, made local: the models folder, loopback, MLServer's own files under `files_dir`."""
    return [
        (MODELS_DIR_ENV, models_dir),
        ("MLSERVER_HOST", "127.0.0.1"),
        ("MLSERVER_METRICS_DIR", os.path.join(files_dir, "metrics")),
        ("MLSERVER_ENVIRONMENTS_DIR", os.path.join(files_dir, "environments")),
    ]


def _ready_path(env: dict[str, str]) -> str:
    name = env.get("MLSERVER_MODEL_NAME")
    return f"/v2/models/{name}/ready" if name else ""
