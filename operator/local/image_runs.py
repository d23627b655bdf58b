"""How a container given only by its image runs locally: as its mapped source folder, or as the prepackaged
server the operator rendered it for (the project's server classes for `protocol: seldon`, the real MLServer for
a container rendered with MLSERVER_* env), with the model URIs its storage initializer would have downloaded.

The unit's command is the unit launcher (which fetches, installs, then becomes the wrapper); its model volume
mount path (/mnt/models) in env values and args is replaced by the local folder the URI lands in.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from seldon_graph.operator.local import mlserver_runs, model_store
from seldon_graph.operator.local.resources import Resources
from seldon_graph.operator.local.sources import S2iSource, folder_for

LAUNCHER_MODULE = "seldon_graph.operator.local.unit_launcher"
SERVER_PACKAGE = "seldon_graph.wrappers.servers"
# implementation → (the project's extra holding its packages, its server class), protocol seldon
SELDON_SERVERS = {
    "SKLEARN_SERVER": ("sklearn-server", f"{SERVER_PACKAGE}.sklearn_server.SKLearnServer"),
    "XGBOOST_SERVER": ("xgboost-server", f"{SERVER_PACKAGE}.xgboost_server.XGBoostServer"),
    "MLFLOW_SERVER": ("mlflow-server", f"{SERVER_PACKAGE}.mlflow_server.MLFlowServer"),
}
# a server binary a rendered container starts by its in-image path, and the name it has on PATH
SERVER_BINARIES = {
    "/usr/bin/tensorflow_model_server": "tensorflow_model_server",
    "/opt/tritonserver/bin/tritonserver": "tritonserver",
}


class CannotRun(ValueError):
    """The container cannot run here; the message is the one line that says why and what fixes it."""


@dataclass(frozen=True)
class LocalInputs:
    """What `up` was given besides the manifest, and where the state home keeps envs, models and phase files."""

    sources: dict[str, str] = field(default_factory=dict)  # image → source folder
    s2i: dict[str, S2iSource] = field(default_factory=dict)  # source folder → its s2i view
    resources: Resources = field(default_factory=Resources)
    servers: dict[tuple[str, str], str] = field(default_factory=dict)  # (predictor, unit) → implementation
    protocol: str = "seldon"
    envs_dir: str = ""
    models_dir: str = ""
    phases_dir: str = ""
    server_files_dir: str = ""  # files a server writes while it runs (MLServer's metrics), a folder per unit
    refresh: bool = False
    which: Callable[[str], str | None] = shutil.which


@dataclass(frozen=True)
class ModelVolume:
    """A storage initializer's download: the URI, the mount path the container sees, the local folder."""

    uri: str
    mount_path: str
    local: str
    remote: bool
    env: tuple[tuple[str, str], ...]  # the initializer's own env (its Secret): given to the download only


@dataclass(frozen=True)
class ImageRun:
    argv: list[str]
    env: list[tuple[str, str]]  # before the manifest's env (the image's ENV, e.g. the s2i environment file)
    cwd: str | None
    phase_file: str
    ready_path: str = ""  # an HTTP readiness probe's path to use instead of the rendered one


def model_volumes(pod: dict, container: dict, inputs: LocalInputs, env_of: Callable[[dict], list]) -> list[ModelVolume]:
    """The storage initializers that fill a volume `container` mounts."""
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts") or []}
    found = []
    for init in pod.get("initContainers") or []:
        args = [str(a) for a in init.get("args") or []]
        shared = [m["name"] for m in init.get("volumeMounts") or [] if m["name"] in mounts]
        if len(args) != 2 or not shared:
            continue
        uri = args[0]
        local = model_store.local_path(uri, os.getcwd())
        remote = local is None
        if local is None:
            local = str(model_store.cache_dir(Path(inputs.models_dir), uri))
        found.append(ModelVolume(uri, mounts[shared[0]], local, remote, tuple(env_of(init))))
    return found


def replace_mounts(text: str, volumes: list[ModelVolume]) -> str:
    """Env values and args naming a model mount path (alone, as a prefix, or quoted in JSON) name the local folder."""
    for volume in volumes:
        for end in ("/", '"', "'"):
            text = text.replace(volume.mount_path + end, volume.local + end)
        if text == volume.mount_path:
            text = volume.local
    return text


def image_run(
    container: dict,
    env: dict[str, str],
    volumes: list[ModelVolume],
    instance: str,
    inputs: LocalInputs,
) -> ImageRun:
    """The launcher command of a container without a command; CannotRun says why there is none."""
    image = container.get("image") or ""
    phase_file = os.path.join(inputs.phases_dir, instance.replace("/", ".") + ".phase")
    launcher = [sys.executable, "-m", LAUNCHER_MODULE, "--phase-file", phase_file, "--envs", inputs.envs_dir]
    for volume in volumes:
        if volume.remote:
            launcher += ["--model", f"{volume.uri}={volume.local}"]
        launcher += [f"--storage-env={name}" for name, _ in volume.env if name not in env]
    if inputs.refresh:
        launcher.append("--refresh")
    args = [str(a) for a in container.get("args") or []]
    files_dir = os.path.join(inputs.server_files_dir, instance.replace("/", "."))
    if mlserver_runs.is_mlserver(env):
        try:
            run = mlserver_runs.mlserver_run(env, files_dir)
        except mlserver_runs.UnknownRuntime as exc:
            raise CannotRun(f"{exc} (container {container['name']!r})") from None
        return _mlserver_run(run, launcher=launcher, phase_file=phase_file)
    implementation = inputs.servers.get((env.get("PREDICTOR_ID", ""), env.get("PREDICTIVE_UNIT_ID", "")))
    if implementation:
        return _server_run(implementation, container, launcher, args, phase_file, inputs)
    if args and args[0] in SERVER_BINARIES:
        binary = _server_binary(args, inputs)
        if binary is None:
            raise CannotRun(f"container {container['name']!r} needs {SERVER_BINARIES[args[0]]} on PATH")
        return ImageRun([binary, *args[1:]], [], None, "")
    folder = folder_for(image, inputs.sources)
    if folder is None:
        raise CannotRun(
            f"container {container['name']!r} has only an image ({image or 'none'}) and no local source: "
            f"map it to its model folder with --source {image.partition('@')[0].rpartition(':')[0] or image}=DIR"
        )
    source = inputs.s2i[folder]
    if source.mlserver:
        run = mlserver_runs.source_run(env, folder, files_dir)
        return _mlserver_run(run, launcher=launcher, phase_file=phase_file, source=source)
    merged = {**source.env, **env}
    if not merged.get("MODEL_NAME"):
        raise CannotRun(f"the source folder {folder} of {image} sets no MODEL_NAME in environment or .s2i/environment")
    wrapper = [merged["MODEL_NAME"], "--service-type", merged.get("SERVICE_TYPE") or "MODEL"]
    if merged.get("PERSISTENCE"):
        wrapper += ["--persistence", merged["PERSISTENCE"]]
    requirements = [f"--requirement={line}" for line in source.requirements]
    argv = [*launcher, "--env-label", "source", *requirements, "--", *wrapper, *args]
    return ImageRun(argv, list(source.environment), folder, phase_file)


def _server_run(
    implementation: str, container: dict, launcher: list[str], args: list[str], phase_file: str, inputs: LocalInputs
) -> ImageRun:
    if implementation in SELDON_SERVERS and inputs.protocol in ("seldon", ""):
        extra, server_class = SELDON_SERVERS[implementation]
        argv = [*launcher, "--extra", extra, "--", server_class, "--service-type", "MODEL", *args]
        return ImageRun(argv, [], None, phase_file)
    binary = _server_binary(args, inputs)
    if binary:
        return ImageRun([binary, *args[1:]], [], None, "")
    if args and args[0] in SERVER_BINARIES:
        raise CannotRun(f"{implementation} needs {SERVER_BINARIES[args[0]]} on PATH (container {container['name']!r})")
    raise CannotRun(
        f"{implementation} (protocol {inputs.protocol or 'seldon'}) has no local server "
        f"(container {container['name']!r} image {container.get('image')})"
    )


def _mlserver_run(
    run: mlserver_runs.MLServerRun, *, launcher: list[str], phase_file: str, source: S2iSource | None = None
) -> ImageRun:
    """`mlserver start` from the isolated env MLServer's image would have: the extra of the container's runtime,
    or MLServer plus an `mlserver build` source folder's requirements (then run in that folder, the image's)."""
    requirements = [f"--requirement={line}" for line in source.requirements] if source else []
    argv = [*launcher, "--extra", run.extra, *requirements, "--isolated", "--exec", mlserver_runs.PROGRAM, "--"]
    cwd = source.folder if source else None
    return ImageRun([*argv, *run.args], run.image_env, cwd, phase_file, ready_path=run.ready_path)


def _server_binary(args: list[str], inputs: LocalInputs) -> str | None:
    """A rendered server binary (TF Serving, Triton) found on PATH, for a container whose args start with it."""
    if args and args[0] in SERVER_BINARIES:
        return inputs.which(SERVER_BINARIES[args[0]])
    return None
