"""The supervisor: applies the desired SeldonDeployments of a state directory as local processes behind Envoy.

A reconcile loop like the operator's: read desired/*.json, render each changed one with the operator's renderer,
start/stop only the units whose spec changed, rebuild the Envoy routes, observe readiness and write
status/*.json. One supervisor per state directory (a held lock). SIGTERM/SIGINT stop everything cleanly:
Envoy drains first, then engines, then the model units. It exits when no deployment is desired any more.

Run detached: python -m seldon_graph.operator.local.deployment_supervisor --home DIR --port 8003
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from seldon_graph import envoy
from seldon_graph.operator.local import oauth_envoy
from seldon_graph.operator.local.applied import FAILED_STATE, Applied, RunningUnit, oauth_credentials
from seldon_graph.operator.local.client_urls import client_urls
from seldon_graph.operator.local.desired_objects import identity, parse_local, render
from seldon_graph.operator.local.envoy_process import EnvoyProcess
from seldon_graph.operator.local.envoy_routes import IngressObjects, resolve_any, route_tables
from seldon_graph.operator.local.home import Home, read_json, write_json
from seldon_graph.operator.local.image_runs import LocalInputs
from seldon_graph.operator.local.ingress_port import port_number
from seldon_graph.operator.local.oauth import Client, clients_document
from seldon_graph.operator.local.ports import PortBook, free_port
from seldon_graph.operator.local.process import (
    FAILED,
    READY,
    REAL_PROCESSES,
    ProcessLayer,
    child_env,
    pid_alive,
    signal_group,
)
from seldon_graph.operator.local.resources import Resources
from seldon_graph.operator.local.restart_policy import KUBELET, CrashLoopBackOff
from seldon_graph.operator.local.rollout import handover, stop_units
from seldon_graph.operator.local.sources import read_source
from seldon_graph.operator.local.topology import Topology
from seldon_graph.operator.local.unit_plan import plan_units
from seldon_graph.operator.local.unit_spec import Probe, UnitPort, UnitSpec
from seldon_graph.sdep import SeldonDeployment, is_prepack

READY_TIMEOUT = float(os.environ.get("SELDON_GRAPH_READY_TIMEOUT", "120"))
TICK = 0.1
OAUTH_UNIT = "oauth-token-service"
INGRESS_LOGS = "_ingress"  # the log folder of the ingress's own processes

Renderer = Callable[[SeldonDeployment, str], list[dict]]
EnvoyFactory = Callable[[Path, int], EnvoyProcess]


class Supervisor:
    def __init__(
        self,
        home: Home,
        listen_port: int,
        *,
        renderer: Renderer = render,
        ready_timeout: float = READY_TIMEOUT,
        processes: ProcessLayer = REAL_PROCESSES,
        envoy_factory: EnvoyFactory = EnvoyProcess,
        restart_policy: CrashLoopBackOff = KUBELET,
    ):
        self.home = home
        self.listen_port = listen_port
        self.renderer = renderer
        self.ready_timeout = ready_timeout
        self.processes = processes
        self.restart_policy = restart_policy
        self.ports = PortBook(home.ports_file, reserved=frozenset({listen_port}))
        self.admin_port = free_port()
        self.envoy = envoy_factory(home.envoy_dir, self.admin_port)
        self.applied: dict[str, Applied] = {}
        self.oauth_unit: RunningUnit | None = None
        self.ingress_versions: tuple[str, str] | None = None
        self.active_versions: tuple[str, str] | None = None
        self.ingress_error = ""
        self.written: dict[str, dict] = {}
        self.stopping = False

    # -- lifecycle -------------------------------------------------------------------------------------------
    def register(self) -> None:
        """Clean up after a supervisor that died without stopping its processes, then publish this one."""
        previous = read_json(self.home.supervisor_file) or {}
        left = [
            pid
            for pid in [previous.get("envoy_pid"), previous.get("oauth_pid")]
            + [u.get("pid") for s in self.home.statuses().values() for u in s.get("units", [])]
            if pid and pid_alive(pid)
        ]
        for pid in left:
            signal_group(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10.0
        while any(pid_alive(p) for p in left) and time.monotonic() < deadline:  # until their ports are free
            time.sleep(0.05)
        for path in self.home.status_dir.glob("*.json") if self.home.status_dir.is_dir() else ():
            path.unlink()
        self._publish()

    def _publish(self) -> None:
        write_json(
            self.home.supervisor_file,
            {
                "pid": os.getpid(),
                "port": self.listen_port,
                "admin_port": self.admin_port,
                "envoy_pid": self.envoy.proc.pid if self.envoy.proc else None,
                "oauth_pid": self.oauth_unit.proc.pid if self.oauth_unit else None,
            },
        )

    def request_stop(self, *_: object) -> None:
        self.stopping = True

    def run(self, on_step: Callable[[Supervisor], None] | None = None) -> None:
        """Reconcile until asked to stop or nothing is desired any more, then stop everything."""
        try:
            while not self.stopping:
                desired = self.home.desired()
                if not desired and not self.applied:
                    break
                self.step(desired)
                if on_step:
                    on_step(self)
                time.sleep(TICK)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Envoy drains first (no new requests, those in flight finish), then engines, then everything else."""
        self.envoy.stop()
        self._stop_units([u for a in self.applied.values() for u in a.all_units()])
        if self.oauth_unit:
            self.processes.stop_all([self.oauth_unit.proc])
        for key in list(self.applied):
            self.home.status_path(key).unlink(missing_ok=True)
        self.applied.clear()
        self.home.supervisor_file.unlink(missing_ok=True)

    # -- reconcile -------------------------------------------------------------------------------------------
    def step(self, desired: dict[str, dict]) -> None:
        retiring = [self.applied.pop(k) for k in list(self.applied) if k not in desired]
        if retiring:
            self._update_ingress()  # unroute first, so nothing in flight reaches a unit being stopped
            self._wait_ingress()
            for applied in retiring:
                self._remove(applied)
        changed = False
        for key, spec in desired.items():
            current = self.applied.get(key)
            if current is None or current.generation != spec.get("generation"):
                self._apply(key, spec)
                changed = True
        for applied in self.applied.values():
            applied.observe(self.ready_timeout, self.processes.ready, self.restart_policy)
            for unit in applied.all_units():
                self._restart_if_due(applied.namespace, unit)
            if applied.waiting and all(u.state == READY for u in applied.units.values()):
                applied.serving = applied.planned_serving()  # route to the ready ones
                changed = True
        if changed:
            self._update_ingress()
        self._finish_rollouts()
        self._write_statuses()

    def _apply(self, key: str, spec: dict) -> None:
        manifest, ingress, cwd = spec["manifest"], spec.get("ingress", "ambassador"), spec.get("cwd") or os.getcwd()
        namespace, name = identity(manifest)
        previous = self.applied.get(key)
        applied = Applied(key, namespace, name, spec.get("generation", ""), ingress)
        try:
            applied.sdep = parse_local(manifest)
            objects = self.renderer(applied.sdep, ingress)  # validates: the one check of this generation here
            topology = Topology(objects, namespace, self.ports.port)
            inputs = local_inputs(spec, self.home, applied.sdep)
            applied.plan = plan_units(objects, namespace, name, topology, cwd, str(self.home.podinfo_dir), inputs)
            applied.topology = topology
            # routing errors are this deployment's
            route_tables([IngressObjects(ingress, applied.plan.ingress_objects)], topology.resolve)
            applied.oauth = oauth_credentials(applied.sdep)
        except Exception as exc:  # a rendering or routing error is this deployment's status, never a crash
            applied.error = f"{type(exc).__name__}: {exc}"
        if applied.plan and applied.plan.problems:
            applied.error = "; ".join(applied.plan.problems)
        wanted = {u.name: u for u in applied.plan.units} if applied.plan and not applied.error else {}
        keep, retire_later = handover(previous, wanted, self.processes.stop_all) if previous else ({}, [])
        applied.units = dict(keep)
        for name_, unit_spec in wanted.items():
            if name_ not in keep:
                try:
                    applied.units[name_] = self._start(namespace, unit_spec)
                except OSError as exc:  # e.g. the command is not installed
                    applied.error = f"unit {name_}: cannot run {unit_spec.argv[0]!r}: {exc.strerror or exc}"
                    self._stop_units(list(applied.units.values()))
                    applied.units = {}
                    break
        if applied.error:
            self._stop_units(retire_later)
            retire_later = []
        applied.retiring = retire_later
        if retire_later and previous and previous.serving:
            applied.serving = previous.serving  # until the new instances are ready
        elif not applied.error and applied.plan and len(keep) == len(applied.plan.units):
            applied.serving = applied.planned_serving()  # nothing new to wait for
        # else: routed once its units are ready, as the operator creates Mappings/VirtualServices then
        self.applied[key] = applied
        self._release_ports(namespace)

    def _finish_rollouts(self) -> None:
        """Stop the previous pod instances once the ingress routes to their ready replacements."""
        done = [a for a in self.applied.values() if a.retiring and not a.rolling]
        if done and self._ingress_state()[0]:
            for applied in done:
                self._stop_units(applied.retiring)
                applied.retiring = []
                self._release_ports(applied.namespace)

    def _release_ports(self, namespace: str) -> None:
        """Forget the local ports of pod instances no unit of `namespace` runs in any more."""
        instances = {u.spec.instance for a in self.applied.values() if a.namespace == namespace for u in a.all_units()}
        self.ports.release(namespace, instances)

    def _start(self, namespace: str, spec: UnitSpec) -> RunningUnit:
        return RunningUnit(spec, self._spawn(namespace, spec), self.home.log_path(namespace, spec.name))

    def _spawn(self, namespace: str, spec: UnitSpec) -> subprocess.Popen:
        for file in spec.files:
            Path(file.path).parent.mkdir(parents=True, exist_ok=True)
            Path(file.path).write_text(file.content)
        if spec.phase_file:
            Path(spec.phase_file).unlink(missing_ok=True)  # a previous run's, not this process's
        log = self.home.log_path(namespace, spec.name)
        return self.processes.spawn(list(spec.argv), child_env(spec.env), spec.cwd, log)

    def _restart_if_due(self, namespace: str, unit: RunningUnit) -> None:
        """Start `unit` again once the back-off after its exit has passed (restartPolicy Always)."""
        if unit.restart_due():
            print(
                f"restarting {namespace}/{unit.spec.name} (restart {unit.restarts + 1}): {unit.last_exit}", flush=True
            )
            unit.restarted(self._spawn(namespace, unit.spec))
            if unit is self.oauth_unit:
                self._publish()  # `down` and a successor find its new pid there

    def _stop_units(self, units: list[RunningUnit]) -> None:
        stop_units(units, self.processes.stop_all)

    def _wait_ingress(self, timeout: float = 5.0) -> None:
        """Until Envoy serves the latest routes (or cannot serve at all)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.ingress_versions:
            active, failure = self._ingress_state()
            if active or failure:
                return
            time.sleep(0.02)

    def _remove(self, applied: Applied) -> None:
        self._stop_units(applied.all_units())
        self.home.status_path(applied.key).unlink(missing_ok=True)
        self.written.pop(applied.key, None)
        self._release_ports(applied.namespace)

    def _update_ingress(self) -> None:
        entries: list[IngressObjects] = []
        topologies: list[Topology] = []
        clients: list[Client] = []
        for _, applied in sorted(self.applied.items()):
            if applied.serving is None or applied.error:
                continue
            entries.append(IngressObjects(applied.ingress, applied.serving.ingress_objects))
            topologies.append(applied.serving.topology)
            if applied.oauth:
                clients.append(
                    Client(applied.oauth.key, applied.oauth.secret, applied.namespace, applied.external_name)
                )
        try:
            tables = route_tables(entries, resolve_any(topologies))
            config = envoy.bootstrap(tables, self.listen_port, self.admin_port)
            if clients:
                write_json(self.home.envoy_dir / "oauth-clients.json", clients_document(clients))
                config = oauth_envoy.with_oauth(config, self._oauth_port())
            self.ingress_versions = self.envoy.apply(config)
            self.ingress_error = ""
        except Exception as exc:  # shown as every deployment's status; the supervisor keeps serving
            self.ingress_error = f"cannot configure the Envoy ingress: {type(exc).__name__}: {exc}"
        self._publish()

    def _oauth_port(self) -> int:
        if self.oauth_unit is None:
            port = free_port()
            clients = self.home.envoy_dir / "oauth-clients.json"
            argv = (
                sys.executable,
                "-m",
                "seldon_graph.operator.local.oauth",
                "--port",
                str(port),
                "--clients",
                str(clients),
            )
            spec = UnitSpec(
                name=OAUTH_UNIT,
                pod=OAUTH_UNIT,
                container=OAUTH_UNIT,
                instance=OAUTH_UNIT,
                argv=argv,
                env=(),
                cwd=str(self.home.root),
                probe=Probe("http", port, "/ready"),
                ports=(UnitPort("http", port),),
            )
            self.oauth_unit = self._start(INGRESS_LOGS, spec)
        return self.oauth_unit.spec.port("http")

    # -- status ----------------------------------------------------------------------------------------------
    def _ingress_state(self) -> tuple[bool, str]:
        """(Envoy serves the current routes, why the ingress cannot serve at all — "" while it can)."""
        code = self.envoy.exited()
        if code is not None:
            return False, f"envoy exited with code {code}: " + " | ".join(self.envoy.log_tail()[-5:])
        if self.ingress_error:
            return False, self.ingress_error
        if self.oauth_unit is not None:
            self.oauth_unit.observe(self.ready_timeout, self.processes.ready, self.restart_policy)
            self._restart_if_due(INGRESS_LOGS, self.oauth_unit)
            if self.oauth_unit.state == FAILED:
                return False, f"OAuth token service failed: {self.oauth_unit.reason}"
            if self.oauth_unit.state != READY:
                return False, ""
        if self.ingress_versions is not None and self.ingress_versions == self.active_versions:
            return True, ""
        if self.ingress_versions is not None and self.envoy.active(self.ingress_versions):
            self.active_versions = self.ingress_versions
            return True, ""
        if self.envoy.rejected:
            return False, f"envoy rejected the ingress listener on port {self.listen_port}: {self.envoy.rejected}"
        return False, ""

    def _write_statuses(self) -> None:
        active, ingress_failure = self._ingress_state()
        for key, applied in self.applied.items():
            state, description, failed = applied.state(active)
            if ingress_failure and not applied.error:
                state, description = FAILED_STATE, ingress_failure
            status = {
                "name": applied.name,
                "namespace": applied.namespace,
                "generation": applied.generation,
                "ingress": applied.ingress,
                "state": state,
                "description": description,
                "failed_unit": failed,
                "oauth": bool(applied.oauth),
                "urls": client_urls(
                    sdep=applied.sdep,
                    namespace=applied.namespace,
                    external_name=applied.external_name,
                    port=self.listen_port,
                    header=applied.header,
                    oauth=bool(applied.oauth),
                ),
                "units": [u.to_status() for u in applied.units.values()]
                + [u.to_status(retiring=True) for u in applied.retiring],
                "supervisor_pid": os.getpid(),
            }
            if self.written.get(key) != status:
                write_json(self.home.status_path(key), status)
                self.written[key] = status


def local_inputs(spec: dict, home: Home, sdep: SeldonDeployment) -> LocalInputs:
    """The image sources, Secrets/ConfigMaps and prepackaged server kinds a desired deployment runs with."""
    sources = spec.get("sources") or {}
    servers = {
        (predictor.name or "", unit.name or ""): unit.implementation or ""
        for predictor in (sdep.spec.predictors if sdep.spec else None) or []
        for unit in predictor.units()
        if is_prepack(unit.implementation)
    }
    return LocalInputs(
        sources=sources,
        s2i={folder: read_source(folder) for folder in set(sources.values())},
        resources=Resources.from_documents(spec.get("resources") or []),
        servers=servers,
        protocol=(sdep.spec.protocol if sdep.spec else None) or "seldon",
        envs_dir=str(home.envs_dir),
        models_dir=str(home.models_dir),
        phases_dir=str(home.phases_dir(sdep.namespace)),
        server_files_dir=str(home.server_files_dir(sdep.namespace)),
        refresh=bool(spec.get("refresh")),
    )


def serve(home: Home, listen_port: int, wait_lock: float = 15.0) -> int:
    """Run a supervisor for `home` until stopped; waits up to `wait_lock` s for a previous one to finish."""
    deadline = time.monotonic() + wait_lock
    while True:
        with home.supervisor_lock() as held:
            if held:
                supervisor = Supervisor(home, listen_port)
                signal.signal(signal.SIGTERM, supervisor.request_stop)
                signal.signal(signal.SIGINT, supervisor.request_stop)
                supervisor.register()
                supervisor.run()
                return 0
        if time.monotonic() > deadline:
            print(f"another supervisor holds {home.root}", file=sys.stderr)
            return 3
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The seldon-graph local supervisor (started by `seldon-graph up`).")
    parser.add_argument("--home", required=True)
    parser.add_argument("--port", type=port_number, default=8003)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return serve(Home.resolve(args.home), args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
