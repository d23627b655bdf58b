"""The state directory and the stable port book the supervisor keeps in it."""

from seldon_graph.operator.local.home import Home, write_json
from seldon_graph.operator.local.ports import PortBook


def test_ports_are_stable_per_pod_port_and_survive_a_restart(tmp_path):
    book = PortBook(tmp_path / "ports.json")
    first = book.port("seldon", "pod-a", 9000)
    assert book.port("seldon", "pod-a", 9000) == first
    others = {book.port("seldon", "pod-a", 9500), book.port("seldon", "pod-b", 9000), book.port("ns2", "pod-a", 9000)}
    assert len(others | {first}) == 4
    assert PortBook(tmp_path / "ports.json").port("seldon", "pod-a", 9000) == first


def test_released_pods_lose_their_ports(tmp_path):
    book = PortBook(tmp_path / "ports.json")
    kept, dropped = book.port("seldon", "kept", 9000), book.port("seldon", "dropped", 9000)
    other_namespace = book.port("ns2", "dropped", 9000)
    book.release("seldon", {"kept"})
    reloaded = PortBook(tmp_path / "ports.json")
    assert reloaded.assigned == {"seldon/kept/9000": kept, "ns2/dropped/9000": other_namespace}
    assert dropped not in reloaded.assigned.values()


def test_one_supervisor_per_state_directory(tmp_path):
    home = Home.resolve(tmp_path)
    assert not home.supervisor_running()
    with home.supervisor_lock() as held:
        assert held
        assert home.supervisor_running()
        with home.supervisor_lock() as second:
            assert not second
    assert not home.supervisor_running()


def test_desired_and_status_documents_are_read_by_key(tmp_path):
    home = Home.resolve(tmp_path)
    write_json(home.desired_path("seldon.a"), {"generation": "1"})
    (home.desired_dir / "broken.json").write_text("{not json")
    assert home.desired() == {"seldon.a": {"generation": "1"}}
    assert home.statuses() == {}
    assert home.log_path("seldon", "pod/container") == tmp_path / "logs" / "seldon" / "pod.container.log"
