"""Every place that names the runtime image names the one from seldon_graph.images, and one setting changes it.

The operator's default engine image, the Helm chart (operator and engine from `image.repository`/`image.tag`),
kustomize (an `images` entry, copied into RELATED_IMAGE_EXECUTOR by a replacement), the model recipe in
examples/model-image/ and the build script's names. kustomize is not installed here: `_kustomize_images` applies
the two features the kustomization uses the way kustomize does (`images` first, then `replacements`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from seldon_graph import __version__
from seldon_graph.images import DEFAULT_PREFIX, RUNTIME_IMAGE, image_names
from seldon_graph.operator.render.settings import EngineSettings, OperatorSettings
from tests.operator.test_manifests import by_kind, config_objects, render_chart

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "operator" / "config"
CHART = ROOT / "operator" / "helm" / "seldon-graph-operator"
OPERATOR = ("Deployment", "seldon-graph-operator")
SELECTOR = re.compile(r"^\[(\w+)=(.*)\]$")


def _manager(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def _env(container: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def _field(node, field_path: str, value=None):
    """Read (or, given `value`, write) a kustomize fieldPath such as `spec.containers.[name=manager].image`."""
    *parts, leaf = field_path.split(".")
    for part in parts:
        selector = SELECTOR.match(part)
        node = next(item for item in node if item[selector[1]] == selector[2]) if selector else node[part]
    if value is not None:
        node[leaf] = value
    return node[leaf]


def _kustomize_images(objects: list[dict], kustomization: dict) -> list[dict]:
    """kustomize's `images` then `replacements` (source and targets selected by kind and name)."""
    for entry in kustomization.get("images", []):
        for deployment in objects:
            for container in deployment.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
                name, _, tag = container["image"].partition(":")
                if name == entry["name"]:
                    container["image"] = f"{entry.get('newName', name)}:{entry.get('newTag', tag)}"
    found = by_kind(objects)
    for replacement in kustomization.get("replacements", []):
        source = replacement["source"]
        value = _field(found[(source["kind"], source["name"])], source["fieldPath"])
        for target in replacement["targets"]:
            for path in target["fieldPaths"]:
                _field(found[(target["select"]["kind"], target["select"]["name"])], path, value)
    return objects


def test_default_names_are_the_projects_repository_with_the_package_version():
    names = image_names()
    assert names.runtime == RUNTIME_IMAGE == f"{DEFAULT_PREFIX}/seldon-graph:{__version__}"
    assert names.model == f"{DEFAULT_PREFIX}/seldon-graph-model:{__version__}"
    assert image_names("registry.example.com/team/", "7").runtime == "registry.example.com/team/seldon-graph:7"
    assert EngineSettings().image == OperatorSettings.from_env({}).engine.image == RUNTIME_IMAGE


def test_build_script_reads_the_names_from_the_package():
    printed = subprocess.run(
        [sys.executable, "-m", "seldon_graph.images", "--prefix", "localhost/me", "--tag", "dev"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed.splitlines() == [
        "RUNTIME_IMAGE=localhost/me/seldon-graph:dev",
        "MODEL_IMAGE=localhost/me/seldon-graph-model:dev",
    ]
    assert "-m seldon_graph.images" in (ROOT / "scripts" / "build-images.sh").read_text()


def test_helm_chart_runs_operator_and_engine_from_one_image_setting():
    chart_meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart_meta["appVersion"] == __version__
    manager = _manager(by_kind(render_chart())[OPERATOR])
    assert manager["image"] == _env(manager)["RELATED_IMAGE_EXECUTOR"] == RUNTIME_IMAGE
    moved = _manager(by_kind(render_chart({"image.repository": "registry.local/sg", "image.tag": "2"}))[OPERATOR])
    assert moved["image"] == _env(moved)["RELATED_IMAGE_EXECUTOR"] == "registry.local/sg:2"


def test_kustomize_runs_operator_and_engine_from_one_image_setting():
    kustomization = yaml.safe_load((CONFIG / "kustomization.yaml").read_text())
    manager = _manager(by_kind(_kustomize_images(config_objects(), kustomization))[OPERATOR])
    assert manager["image"] == _env(manager)["RELATED_IMAGE_EXECUTOR"] == RUNTIME_IMAGE

    # what `kustomize edit set image ghcr.io/seldon-graph/seldon-graph=registry.local/sg:2` writes
    (entry,) = kustomization["images"]
    entry.update(newName="registry.local/sg", newTag="2")
    moved = _manager(by_kind(_kustomize_images(config_objects(), kustomization))[OPERATOR])
    assert moved["image"] == _env(moved)["RELATED_IMAGE_EXECUTOR"] == "registry.local/sg:2"


def test_model_recipe_builds_from_the_model_image():
    dockerfile = (ROOT / "examples" / "model-image" / "Dockerfile").read_text()
    assert f"\nFROM {image_names().model}\n" in dockerfile


def test_model_folder_seldondeployment_is_valid_and_runs_the_image_command():
    manifest = ROOT / "examples" / "model-image" / "seldondeployment.yaml"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "seldon-graph"), "validate", "-f", str(manifest)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (container,) = yaml.safe_load(manifest.read_text())["spec"]["predictors"][0]["componentSpecs"][0]["spec"][
        "containers"
    ]
    assert "command" not in container
