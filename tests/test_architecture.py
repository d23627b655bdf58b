"""The import rules of docs/architecture.md, checked on the source: a component imports only what it may."""

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


def _component_imports(folder: str) -> set[tuple[str, str]]:
    """(file, component) for every import of another component's package from `folder`."""
    found = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "seldon_graph" and len(parts) > 1 and parts[1] in COMPONENTS:
                    found.add((str(path.relative_to(ROOT)), parts[1]))
    return found


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_component_imports_follow_the_rules(folder):
    forbidden = {
        (path, other) for path, other in _component_imports(folder) if other != folder and other not in ALLOWED[folder]
    }
    assert not forbidden, f"{folder}/ imports components it may not: {sorted(forbidden)}"
