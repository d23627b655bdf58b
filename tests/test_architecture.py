"""The import rules of docs/architecture.md, checked on the source: a component imports only what it may, and
inside operator/ each room (render, kube, local) imports only the rooms it may."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = ["wrappers", "engine", "ambassador", "istio", "operator"]
ALLOWED = {
    "core": set(),
    "wrappers": set(),
    "engine": set(),
    "ambassador": set(),
    "istio": set(),
    "operator": {"ambassador", "istio"},
}


# operator/ is desired state (render) plus two appliers (kube, local) that never import each other
ROOMS = ["render", "kube", "local"]
ROOM_ALLOWED = {
    "render": {"ambassador", "istio"},
    "kube": {"render"},
    "local": {"render", "ambassador", "istio"},
}


def _imported_modules(folder: Path) -> set[tuple[str, tuple[str, ...]]]:
    """(file, dotted name split in parts) for every absolute `seldon_graph` import under `folder`."""
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                parts = tuple(name.split("."))
                if parts[0] == "seldon_graph":
                    found.add((str(path.relative_to(ROOT)), parts))
    return found


def _component_imports(folder: str) -> set[tuple[str, str]]:
    """(file, component) for every import of another component's package from `folder`."""
    return {
        (path, parts[1])
        for path, parts in _imported_modules(ROOT / folder)
        if len(parts) > 1 and parts[1] in COMPONENTS
    }


def _room_imports(room: str) -> set[tuple[str, str]]:
    """(file, room or component) for every import of another room of operator/ or of another component."""
    found = set()
    for path, parts in _imported_modules(ROOT / "operator" / room):
        if parts[1:3] and parts[1] == "operator" and len(parts) > 2 and parts[2] in ROOMS:
            found.add((path, parts[2]))
        elif len(parts) > 1 and parts[1] in COMPONENTS and parts[1] != "operator":
            found.add((path, parts[1]))
    return found


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_component_imports_follow_the_rules(folder):
    forbidden = {
        (path, other) for path, other in _component_imports(folder) if other != folder and other not in ALLOWED[folder]
    }
    assert not forbidden, f"{folder}/ imports components it may not: {sorted(forbidden)}"


@pytest.mark.parametrize("room", ROOMS)
def test_operator_rooms_import_only_what_they_may(room):
    forbidden = {
        (path, other) for path, other in _room_imports(room) if other != room and other not in ROOM_ALLOWED[room]
    }
    assert not forbidden, f"operator/{room}/ imports rooms it may not: {sorted(forbidden)}"


def test_every_operator_module_lives_in_a_room():
    """operator/ holds the rooms and the shipped install artefacts (crd/, config/, helm/), no loose modules."""
    loose = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "operator").rglob("*.py")
        if path.relative_to(ROOT / "operator").parts[0] not in {*ROOMS, "crd"}
    ]
    assert not loose, f"modules outside operator/render, kube, local: {loose}"
