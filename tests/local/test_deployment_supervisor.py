"""The local supervisor's reconcile loop in-process, over a fake process layer and a fake Envoy (no processes).

The real renderer, planner, topology, port book, route tables and state directory run; only starting, stopping and
probing processes and the Envoy process itself are stand-ins, so these tests are fast and deterministic. The
end-to-end tests in this folder run the same loop with real processes behind a real Envoy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from seldon_graph.operator.local.deployment_supervisor import Supervisor
from seldon_graph.operator.local.home import Home
from seldon_graph.operator.local.process import ProcessLayer
from seldon_graph.operator.local.unit_plan import ENGINE_COMMAND

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY = "seldon.graph"


class FakeProc:
    """A Popen stand-in: running until `exit` is called, or until the fake layer stops it."""

    def __init__(self, pid: int, argv: list[str]):
        self.pid = pid
        self.argv = argv
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode

    def exit(self, code: int) -> None:
        self.returncode = code


class FakeProcesses:
    """Records what the supervisor starts and stops; every probe passes once `all_ready` is set."""

    def __init__(self):
        self.started: list[FakeProc] = []
        self.stopped: list[list[FakeProc]] = []
        self.all_ready = False

    def spawn(self, argv, env, cwd, log_path) -> FakeProc:
        proc = FakeProc(100_000 + len(self.started), argv)
        self.started.append(proc)
        return proc

    def stop_all(self, procs) -> None:
        for proc in procs:
            proc.exit(-15)
        if procs:
            self.stopped.append(list(procs))

    def ready(self, probe) -> bool:
        return self.all_ready

    def layer(self) -> ProcessLayer:
        return ProcessLayer(spawn=self.spawn, stop_all=self.stop_all, ready=self.ready)


class FakeEnvoy:
    """An EnvoyProcess stand-in that serves every configuration it is given at once."""

    def __init__(self, folder: Path, admin_port: int):
        self.proc = None
        self.rejected = ""
        self.configs: list[dict] = []
        self.stopped = False

    def apply(self, bootstrap: dict) -> tuple[str, str]:
        self.configs.append(bootstrap)
        version = str(len(self.configs))
        return version, version

    def active(self, versions: tuple[str, str]) -> bool:
        return True

    def exited(self) -> int | None:
        return None

    def log_tail(self) -> list[str]:
        return []

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def processes():
    return FakeProcesses()


@pytest.fixture
def supervisor(tmp_path, processes):
    envoys = []

    def envoy_factory(folder, admin_port):
        envoys.append(FakeEnvoy(folder, admin_port))
        return envoys[-1]

    home = Home.resolve(tmp_path / "home")
    result = Supervisor(home, 8003, processes=processes.layer(), envoy_factory=envoy_factory, ready_timeout=60)
    result.fake_envoy = envoys[0]
    return result


def desired(generation: str = "g1", **changes) -> dict:
    manifest = yaml.safe_load((EXAMPLES / "graph.yaml").read_text())
    manifest["metadata"]["namespace"] = "seldon"
    manifest["spec"].update(changes)
    return {KEY: {"manifest": manifest, "ingress": "ambassador", "cwd": "/work", "generation": generation}}


def status(supervisor: Supervisor) -> dict:
    return supervisor.home.statuses()[KEY]


def routed_clusters(supervisor: Supervisor) -> list[dict]:
    """The upstream clusters of the Envoy configuration the supervisor applied last."""
    configs = supervisor.fake_envoy.configs
    return configs[-1]["static_resources"]["clusters"] if configs else []


def test_a_deployment_is_creating_until_every_unit_is_ready_then_available(supervisor, processes):
    supervisor.step(desired())
    assert status(supervisor)["state"] == "Creating"
    assert processes.started and routed_clusters(supervisor) == []  # not routed before its units are ready
    processes.all_ready = True
    supervisor.step(desired())
    assert status(supervisor)["state"] == "Available"
    assert routed_clusters(supervisor)
    assert status(supervisor)["urls"]["rest"].endswith("/seldon/seldon/graph/api/v1.0/predictions")


def test_a_unit_that_exits_fails_the_deployment_with_its_exit_code(supervisor, processes):
    supervisor.step(desired())
    processes.started[0].exit(3)
    supervisor.step(desired())
    assert status(supervisor)["state"] == "Failed"
    assert "process exited with code 3" in status(supervisor)["description"]
    assert status(supervisor)["failed_unit"]["pid"] == processes.started[0].pid


def test_a_new_generation_with_the_same_units_starts_nothing(supervisor, processes):
    processes.all_ready = True
    supervisor.step(desired("g1"))
    started = len(processes.started)
    supervisor.step(desired("g2"))
    assert len(processes.started) == started and not processes.stopped
    assert status(supervisor)["generation"] == "g2" and status(supervisor)["state"] == "Available"


def test_withdrawn_deployments_stop_engines_first_and_leave_no_status(supervisor, processes):
    processes.all_ready = True
    supervisor.step(desired())
    supervisor.step({})
    assert supervisor.applied == {} and KEY not in supervisor.home.statuses()
    first, *rest = processes.stopped
    assert first and all(tuple(p.argv[:1]) == ENGINE_COMMAND for p in first)
    assert all(p.poll() is not None for p in processes.started)
    assert rest


def test_an_invalid_deployment_is_failed_with_what_is_wrong_and_runs_nothing(supervisor, processes):
    supervisor.step(desired(protocol="carrier-pigeon"))
    assert status(supervisor)["state"] == "Failed"
    assert "spec.protocol" in status(supervisor)["description"]
    assert processes.started == []


def test_shutdown_stops_envoy_and_every_unit(supervisor, processes):
    supervisor.step(desired())
    supervisor.shutdown()
    assert supervisor.fake_envoy.stopped
    assert all(p.poll() is not None for p in processes.started)
