"""The handover rules of a new generation: keep, retire after the rollout, or stop now (real, trivial processes)."""

import subprocess

import pytest

from seldon_graph.operator.local.applied import Applied, RunningUnit, Serving
from seldon_graph.operator.local.process import FAILED, READY
from seldon_graph.operator.local.rollout import handover
from seldon_graph.operator.local.unit_spec import Probe, UnitSpec


def spec(name: str, instance: str, command: str = "a") -> UnitSpec:
    pod, container = name.split("/")
    return UnitSpec(
        name=name,
        pod=pod,
        container=container,
        instance=instance,
        argv=(command,),
        env=(),
        cwd="/",
        probe=Probe("alive"),
    )


@pytest.fixture
def started(tmp_path):
    procs = []

    def unit(unit_spec: UnitSpec, state: str = READY) -> RunningUnit:
        proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
        procs.append(proc)
        return RunningUnit(unit_spec, proc, tmp_path / "log", state=state)

    yield unit
    for proc in procs:
        proc.kill()
        proc.wait()


def previous(units: list[RunningUnit], retiring: list[RunningUnit] = (), rolling: bool = False) -> Applied:
    applied = Applied(
        "ns.d", "ns", "d", "g1", "ambassador", units={u.spec.name: u for u in units}, retiring=list(retiring)
    )
    applied.topology = object()
    applied.serving = Serving([], object() if rolling else applied.topology)
    return applied


def test_unchanged_units_are_kept(started):
    unit = started(spec("p/m", "p@1"))
    keep, retire = handover(previous([unit]), {"p/m": spec("p/m", "p@1")})
    assert keep == {"p/m": unit} and retire == [] and unit.proc.poll() is None


def test_a_changed_pod_instance_serves_until_its_replacement_is_ready(started):
    unit = started(spec("p/m", "p@1"))
    keep, retire = handover(previous([unit]), {"p/m": spec("p/m", "p@2", "b")})
    assert keep == {} and retire == [unit] and unit.proc.poll() is None


def test_a_change_within_the_same_pod_instance_stops_the_unit_now(started):
    unit = started(spec("p/engine", "p@1"))
    keep, retire = handover(previous([unit]), {"p/engine": spec("p/engine", "p@1", "b")})
    assert keep == {} and retire == [] and unit.proc.wait(5) is not None


def test_failed_units_and_units_that_never_served_are_stopped_now(started):
    failed = started(spec("p/m", "p@1"), FAILED)
    keep, retire = handover(previous([failed]), {"p/m": spec("p/m", "p@1")})
    assert keep == {} and retire == [] and failed.proc.wait(5) is not None
    serving = started(spec("p/m", "p@1"))
    starting = started(spec("p/m", "p@2", "b"))
    keep, retire = handover(previous([starting], [serving], rolling=True), {"p/m": spec("p/m", "p@3", "c")})
    assert keep == {} and retire == [serving] and starting.proc.wait(5) is not None


def test_going_back_to_what_still_serves_keeps_it(started):
    serving = started(spec("p/m", "p@1"))
    crashed = started(spec("p/m", "p@2", "b"), FAILED)
    keep, retire = handover(previous([crashed], [serving], rolling=True), {"p/m": spec("p/m", "p@1")})
    assert keep == {"p/m": serving} and retire == [] and crashed.proc.wait(5) is not None
