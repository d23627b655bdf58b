"""`seldon-graph up | status | logs | down`: run SeldonDeployments on this machine behind a local Envoy."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeAlias

from seldon_graph.graph_drawing import describe, render_text
from seldon_graph.operator.local import client, node_stats
from seldon_graph.operator.local.client import DEFAULT_PORT, UsageError
from seldon_graph.operator.local.deployment_supervisor import INGRESS_LOGS, OAUTH_UNIT, Supervisor
from seldon_graph.operator.local.desired_objects import INGRESSES
from seldon_graph.operator.local.home import ENV_HOME, Home, read_json
from seldon_graph.operator.local.ingress_port import port_number, unavailable
from seldon_graph.operator.local.process import pid_alive, tail
from seldon_graph.operator.local.sources import SourceError, parse_mappings
from seldon_graph.sdep import SdepError, default, parse

# What the `seldon-graph` parser hands each command's `add_*` (argparse names this type only privately).
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
# A command run with its parsed arguments and the state directory they name; its exit status.
Command = Callable[[argparse.Namespace, Home], int]


def _home_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", help=f"state directory (default ${ENV_HOME} or ~/.seldon-graph)")


def add_up(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser("up", help="run SeldonDeployments locally (processes + Envoy ingress)")
    parser.add_argument(
        "-f", "--file", required=True, type=Path, help="SeldonDeployment YAML, one or more documents (- reads stdin)"
    )
    parser.add_argument(
        "--ingress",
        choices=INGRESSES,
        default="ambassador",
        help="routing objects the Envoy ingress is configured from (default: ambassador)",
    )
    parser.add_argument("--port", type=port_number, help=f"ingress port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="IMAGE=DIR",
        help="run containers of IMAGE (any tag when it has none) from the s2i source folder DIR (repeatable)",
    )
    parser.add_argument(
        "--sources", action="append", default=[], type=Path, metavar="FILE", help="YAML {image: dir} mappings"
    )
    parser.add_argument("--refresh", action="store_true", help="download the model URIs again")
    parser.add_argument("--detach", action="store_true", help="leave a supervisor running and return when ready")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for readiness")
    _home_arg(parser)
    parser.set_defaults(func=_guarded(up))


def add_status(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser("status", help="state of the locally running SeldonDeployments")
    parser.add_argument("--json", action="store_true", help="print the raw status documents")
    _home_arg(parser)
    parser.set_defaults(func=_guarded(status))


def add_logs(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser("logs", help="logs of local units")
    parser.add_argument(
        "unit", nargs="?", help="unit, pod, container or SeldonDeployment name, or envoy / ingress (default: all)"
    )
    parser.add_argument("-n", "--lines", type=int, default=50, help="last N lines of each log (0: all)")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing what the units log (Ctrl-C stops)")
    _home_arg(parser)
    parser.set_defaults(func=_guarded(logs))


def add_down(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser("down", help="stop local SeldonDeployments (all when no name is given)")
    parser.add_argument("names", nargs="*", metavar="NAME", help="SeldonDeployment name or namespace/name")
    _home_arg(parser)
    parser.set_defaults(func=_guarded(down))


def _guarded(command: Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args, Home.resolve(args.home))
        except UsageError as exc:
            print(f"seldon-graph {args.command}: {exc}", file=sys.stderr)
            return 2

    return run


# -- up ------------------------------------------------------------------------------------------------------
def up(args: argparse.Namespace, home: Home) -> int:
    manifests = client.read_manifests(args.file, args.ingress)
    cwd = str(Path.cwd())
    try:
        sources = parse_mappings(args.source, args.sources, Path(cwd))
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    asked = client.UpRequest(args.ingress, cwd, sources, manifests.resources, args.refresh)
    running = home.supervisor()
    port = args.port or (running or {}).get("port") or DEFAULT_PORT
    if running and running.get("port") != port:
        raise UsageError(
            f"a supervisor for {home.root} already serves port {running['port']}; "
            f"use --port {running['port']} or `seldon-graph down` first"
        )
    if not running:
        left_behind = read_json(home.supervisor_file) or {}
        problem = unavailable(port, own=frozenset({left_behind.get("envoy_pid") or 0}))
        if problem:
            raise UsageError(f"{problem}; choose another --port")
    dead = client.left_behind(home)
    if dead:
        print(
            f"seldon-graph: the supervisor of {home.root} (pid {dead}) was killed; a new one stops what it left "
            "running and starts its deployments again",
            flush=True,
        )
    already_desired = set(home.desired()) if running else set()
    wanted = dict(client.request(home, m, asked) for m in manifests.deployments)
    progress = Progress()
    if args.detach:
        code = _report(client.wait_settled(home, wanted, args.timeout, progress.show, port=port))
        if code:
            _stop_started(home, [k for k in wanted if k not in already_desired], supervisor_started=not running)
        return code
    with home.supervisor_lock() as held:
        if held:
            return _foreground_supervisor(home, port, wanted, progress)
    return _foreground_client(home, wanted, args.timeout, progress)


def _foreground_supervisor(home: Home, port: int, wanted: dict[str, str], progress: Progress) -> int:
    """This process is the supervisor: run until Ctrl-C / SIGTERM, then stop everything it started."""
    supervisor = Supervisor(home, port)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    supervisor.register()
    print(f"seldon-graph: starting {len(wanted)} SeldonDeployment(s); Ctrl-C stops everything", flush=True)

    def on_step(_: Supervisor) -> None:
        for status in home.statuses().values():
            progress.show(status)

    try:
        supervisor.run(on_step)
    finally:
        client.withdraw(home, list(home.desired()))
    print("seldon-graph: stopped", flush=True)
    return 1 if progress.failed and not progress.available else 0


def _foreground_client(home: Home, wanted: dict[str, str], timeout: float, progress: Progress) -> int:
    """A supervisor already runs: apply through it, then withdraw our deployments on Ctrl-C / SIGTERM."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    code = _report(client.wait_settled(home, wanted, timeout, progress.show, interrupted=lambda: bool(stop)))
    print("seldon-graph: Ctrl-C stops these deployments", flush=True)
    while not stop and all(home.desired_path(k).exists() for k in wanted) and home.supervisor_running():
        time.sleep(0.2)
    client.withdraw(home, list(wanted))
    client.wait_gone(home, list(wanted))
    print("seldon-graph: stopped", flush=True)
    return code


class Progress:
    """Each unit's phase as it changes, and a summary when a deployment becomes Available or Failed.

    On a terminal the units' lines are redrawn in place (one line per unit, updated as its phase changes);
    otherwise each change is printed once as a plain line, so logs and pipes read well.
    """

    def __init__(self, out: TextIO | None = None):
        self.out = out or sys.stdout
        self.tty = self.out.isatty()
        self.seen: dict[str, str] = {}
        self.available: set[str] = set()
        self.failed: set[str] = set()
        self._board: dict[str, str] = {}  # unit → its current line, in first-seen order (TTY only)
        self._drawn = 0  # lines of the board on screen

    def show(self, status: dict) -> None:
        ident = f"{status['namespace']}/{status['name']}"
        for unit in status.get("units", []):
            line = f"{unit['state']}" + (f" ({unit['reason']})" if unit.get("reason") else "")
            line += " (previous instance, retiring)" if unit.get("retiring") else ""
            if self.seen.get(f"{ident}:{unit['pid']}") != line:
                self.seen[f"{ident}:{unit['pid']}"] = line
                self._unit_line(f"{ident}:{unit['pid']}", f"  {ident}  {unit['name']:<50} {line}  pid {unit['pid']}")
        marker = f"{ident}@{status.get('generation')}:{status['state']}"
        if status["state"] in client.SETTLED and self.seen.get(ident) != marker:
            self.seen[ident] = marker
            (self.available if status["state"] == "Available" else self.failed).add(ident)
            self._settled(summary(status))

    def _unit_line(self, key: str, text: str) -> None:
        if not self.tty:
            print(text, file=self.out, flush=True)
            return
        self._board[key] = text
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        self.out.write(up + "".join(f"\x1b[2K{line}\n" for line in self._board.values()))
        self.out.flush()
        self._drawn = len(self._board)

    def _settled(self, text: str) -> None:
        """A summary below the board; the next changes start a new board under it."""
        print(text, file=self.out, flush=True)
        self._board.clear()
        self._drawn = 0


def summary(status: dict) -> str:
    ident = f"{status['namespace']}/{status['name']}"
    if status["state"] != "Available":
        lines = [f"SeldonDeployment {ident} is {status['state']}: {status.get('description', '')}"]
        failed = status.get("failed_unit")
        if failed:
            lines += [f"  last lines of {failed['log']}:"] + [f"    {line}" for line in failed.get("log_tail", [])]
        return "\n".join(lines)
    urls = status["urls"]
    lines = [
        f"SeldonDeployment {ident} is Available",
        f"  REST  {urls['rest']}",
        f"  gRPC  {urls['grpc']}  (metadata seldon={urls['grpc_metadata']['seldon']}, namespace={status['namespace']})",
        f"  try   curl -s -H 'Content-Type: application/json' -d '{urls['example']}' {urls['rest']}",
    ]
    if urls.get("header"):
        lines.insert(1, f"  only requests with header {urls['header']}")
    if status.get("oauth"):
        lines.insert(
            1, f"  token POST {urls['token']} (HTTP Basic oauth_key:oauth_secret, grant_type=client_credentials)"
        )
    return "\n".join(lines)


def _stop_started(home: Home, keys: list[str], *, supervisor_started: bool) -> None:
    """After a failed `up --detach`: stop the deployments this command started (one it updated keeps its serving
    instance), and the supervisor too when this command started it and nothing else runs."""
    if not keys:
        return
    supervisor_pid = (home.supervisor() or {}).get("pid")
    pids = client.recorded_pids(home, keys)
    client.withdraw(home, keys)
    client.wait_gone(home, keys)
    if supervisor_started and not home.desired():
        _wait_supervisor_exit(home, supervisor_pid)
    if not home.supervisor_running():
        client.kill_stale(home, keys)
    _wait_dead(pids)
    for key in keys:
        print(f"stopped {key.replace('.', '/', 1)}: it did not become Available", flush=True)


def _report(statuses: dict[str, dict]) -> int:
    """0 when every deployment is Available; says which are still not settled."""
    for key, status in statuses.items():
        if status.get("state") not in client.SETTLED:
            print(
                f"{key.replace('.', '/', 1)} is still {status.get('state')} {status.get('description', '')}", flush=True
            )
    return 0 if all(s.get("state") == "Available" for s in statuses.values()) else 1


# -- status / logs / down ------------------------------------------------------------------------------------
def status(args: argparse.Namespace, home: Home) -> int:
    statuses = home.statuses()
    supervisor = home.supervisor()
    if args.json:
        print(json.dumps({"supervisor": supervisor, "deployments": statuses}, indent=1, sort_keys=True))
        return 0
    if not statuses:
        print(f"No SeldonDeployments are running (state directory {home.root}).")
        return 0
    if supervisor is None:
        print("The supervisor is not running: these are stale; `seldon-graph down` cleans up.")
    desired = home.desired()
    print(f"{'NAMESPACE/NAME':<40} {'STATE':<10} INGRESS")
    for key, status_ in statuses.items():
        print(f"{status_['namespace'] + '/' + status_['name']:<40} {status_['state']:<10} {status_['ingress']}")
        for unit in status_.get("units", []):
            alive = ("" if pid_alive(unit["pid"]) else " (exited)") + (" (retiring)" if unit.get("retiring") else "")
            restarts = f"  restarts {unit.get('restarts', 0)}" + (
                f" (last: {unit['last_exit']})" if unit.get("last_exit") else ""
            )
            print(f"  {unit['name']:<50} {unit['state']:<8} pid {unit['pid']}{alive}{restarts}  ports {unit['ports']}")
        tree = _tree(status_, (desired.get(key) or {}).get("manifest"))
        if tree:
            print("  " + tree.rstrip("\n").replace("\n", "\n  "))
        if status_["state"] != "Creating":
            print("  " + summary(status_).replace("\n", "\n  "))
    return 0


def _tree(status_: dict, manifest: dict | None) -> str:
    """The deployment's graphs with each node's requests, errors, p50 and p99 from its engines' metrics."""
    if not isinstance(manifest, dict):
        return ""
    try:
        predictors = describe(default(parse(manifest)))
    except SdepError:
        return ""
    stats: dict = {}
    for unit in status_.get("units", []):
        url = node_stats.metrics_url(unit.get("command") or [])
        if url and not unit.get("retiring"):
            for predictor, nodes in node_stats.node_stats(node_stats.scrape(url)).items():
                stats.setdefault(predictor, {}).update(nodes)
    return render_text("graph", predictors, stats)


def _logs(home: Home) -> list[tuple[set[str], str, Path]]:
    """(names that select it, unit name, log file) of every unit, then of the ingress processes."""
    found = []
    for status in home.statuses().values():
        ident = {status["name"], f"{status['namespace']}/{status['name']}"}
        for unit in status.get("units", []):
            pod, _, container = unit["name"].partition("/")
            found.append(({unit["name"], pod, container} | ident, unit["name"], Path(unit["log"])))
    for name, path in (("envoy", home.envoy_dir / "envoy.log"), (OAUTH_UNIT, home.log_path(INGRESS_LOGS, OAUTH_UNIT))):
        if path.exists():
            found.append(({name, "ingress"}, name, path))
    return found


def logs(args: argparse.Namespace, home: Home) -> int:
    available = _logs(home)
    if not available:
        print(f"No SeldonDeployments are running (state directory {home.root}): there are no logs to show.")
        return 1
    chosen = {name: path for names, name, path in available if args.unit is None or args.unit in names}
    if not chosen:
        names = ", ".join(name for _, name, _ in available) or "none"
        raise UsageError(f"no unit matches {args.unit!r}; units: {names}")
    for name, path in chosen.items():
        lines = tail(path, args.lines) if args.lines else path.read_text(errors="replace").splitlines()
        print(f"==> {name} ({path}) <==")
        print("\n".join(lines), flush=True)
    if args.follow:
        _follow(chosen)
    return 0


def _follow(paths: dict[str, Path]) -> None:
    """Print what is appended to each log, prefixed by its unit, until Ctrl-C."""
    offsets = {name: path.stat().st_size if path.exists() else 0 for name, path in paths.items()}
    prefix = len(paths) > 1
    try:
        while True:
            for name, path in paths.items():
                if not path.exists() or path.stat().st_size <= offsets[name]:
                    continue
                with open(path, "rb") as handle:
                    handle.seek(offsets[name])
                    chunk = handle.read()
                offsets[name] += len(chunk)
                for line in chunk.decode(errors="replace").splitlines():
                    print(f"{name}: {line}" if prefix else line, flush=True)
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass


def down(args: argparse.Namespace, home: Home) -> int:
    desired, statuses = home.desired(), home.statuses()
    known = set(desired) | set(statuses)
    if not known and not home.supervisor_file.exists() and not home.supervisor_running():
        print(f"No SeldonDeployments are running (state directory {home.root}): nothing to stop.")
        return 0
    keys = []
    for name in args.names:
        match = [k for k in known if k == name.replace("/", ".", 1) or k.split(".", 1)[1] == name]
        if not match:
            raise UsageError(f"no local SeldonDeployment named {name!r}; running: {', '.join(sorted(known)) or 'none'}")
        keys += match
    keys = keys or sorted(known)
    pids = client.recorded_pids(home, keys if args.names else None)
    supervisor_pid = (home.supervisor() or {}).get("pid")
    client.withdraw(home, keys)
    if home.supervisor_running():
        if not client.wait_gone(home, keys):
            raise UsageError("the supervisor did not stop the deployments within 60s; see `seldon-graph status`")
        if not args.names:
            _wait_supervisor_exit(home, supervisor_pid)
    client.kill_stale(home, keys if args.names or home.supervisor_running() else None)
    left = _wait_dead([p for p in pids if p != os.getpid()])
    for key in keys:
        print(f"stopped {key.replace('.', '/', 1)}")
    if left:
        print(f"warning: processes still alive: {left}", file=sys.stderr)
        return 1
    return 0


def _wait_dead(pids: list[int], timeout: float = 10.0) -> list[int]:
    """The pids still alive after up to `timeout` seconds (a killed process takes a moment to go)."""
    deadline = time.monotonic() + timeout
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if pid_alive(p)]


def _wait_supervisor_exit(home: Home, pid: int | None, timeout: float = 30.0) -> None:
    """Until the supervisor released its lock and its process is gone."""
    deadline = time.monotonic() + timeout
    while (home.supervisor_running() or (pid and pid_alive(pid))) and time.monotonic() < deadline:
        time.sleep(0.05)
