"""The type check CI runs covers every top-level core module, so a new one cannot slip past it unchecked."""

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _mypy_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]


def test_every_top_level_core_module_is_type_checked():
    config = _mypy_config()
    core = {f"seldon_graph.{path.stem}" for path in (ROOT / "core").glob("*.py") if path.stem != "__init__"}
    missing = core - set(config["modules"])
    assert not missing, f"add {sorted(missing)} to [tool.mypy] modules in pyproject.toml"
    assert "seldon_graph" in config["modules"]


def _silenced(config: dict) -> set[str]:
    return {
        module
        for override in config.get("overrides", [])
        if override.get("follow_imports") == "silent"
        for module in override["module"]
    }


def test_the_http11_server_is_type_checked_and_not_silenced():
    config = _mypy_config()
    assert "seldon_graph.http11" in config["modules"]
    assert "seldon_graph.http11" not in _silenced(config)


@pytest.mark.parametrize("package", ["seldon_graph.wrappers", "seldon_graph.operator.local", "seldon_graph.engine"])
def test_the_package_is_type_checked_and_not_silenced(package):
    config = _mypy_config()
    assert package in config["packages"]
    silenced = _silenced(config)
    assert not {m for m in silenced if m == package or m.startswith(f"{package}.")}, silenced
