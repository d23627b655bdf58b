"""The vendored published SeldonDeployments (tests/fixtures/seldon_examples) are the bytes the README names, and
`up` reads each as it is: a Namespace document beside them is skipped, every SeldonDeployment validates but the
LIGHTGBM_SERVER one, whose server the operator knows only after its example's Helm values add it. The published
V2 documents are planned here: MLflow's (not run end to end: its MLServer env is about 1 GB) and the graph whose
`mlserver build` image runs from an MLServer source folder."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from seldon_graph.operator.local.client import UsageError, read_manifests
from seldon_graph.operator.local.deployment_supervisor import local_inputs
from seldon_graph.operator.local.desired_objects import render
from seldon_graph.operator.local.home import Home
from seldon_graph.operator.local.topology import Topology
from seldon_graph.operator.local.unit_plan import LocalPlan, plan_units

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "seldon_examples"
SOURCES = Path(__file__).resolve().parents[1] / "fixtures" / "seldon_sources"
DOCUMENTS = sorted(p.name for p in FOLDER.iterdir() if p.suffix in (".yaml", ".json"))
CUSTOM_SERVER = "lightgbm-iris-kfserving.yaml"


def test_every_vendored_file_has_the_sha256_its_readme_names():
    named = dict(
        (name, digest)
        for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", (FOLDER / "README.md").read_text(), re.M)
    )
    assert sorted(named) == DOCUMENTS
    for name, digest in named.items():
        assert hashlib.sha256((FOLDER / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("name", [name for name in DOCUMENTS if name != CUSTOM_SERVER])
def test_up_reads_every_published_document_unchanged(name):
    manifests = read_manifests(FOLDER / name, "ambassador")
    assert manifests.deployments and not manifests.resources


def test_a_namespace_document_beside_the_deployment_is_skipped():
    [manifest] = read_manifests(FOLDER / "iter8-abtest.yaml", "ambassador").deployments
    assert (manifest.sdep.namespace, manifest.sdep.name) == ("ns-production", "iris")


def test_a_server_only_the_examples_helm_values_add_is_rejected_as_the_webhook_does():
    with pytest.raises(UsageError) as error:
        read_manifests(FOLDER / CUSTOM_SERVER, "ambassador")
    assert "SeldonDeployment 'iris' is invalid" in str(error.value)
    assert "No entry in predictors map for LIGHTGBM_SERVER" in str(error.value)


def local_plan(name: str, home: Path, sources: dict[str, str] | None = None) -> LocalPlan:
    """The supervisor's plan of a vendored document, with `sources` (image → folder) and ports counted from 20000."""
    [manifest] = read_manifests(FOLDER / name, "ambassador").deployments
    sdep = manifest.sdep
    objects = render(sdep, "ambassador")
    ports: dict = {}
    topology = Topology(objects, sdep.namespace, lambda *key: ports.setdefault(key, 20000 + len(ports)))
    inputs = local_inputs({"manifest": manifest.document, "sources": sources or {}}, Home(home), sdep)
    return plan_units(objects, sdep.namespace, sdep.name or "", topology, str(home), inputs=inputs)


def test_the_mlflow_v2_document_plans_mlserver_with_its_mlflow_runtime(tmp_path):
    result = local_plan("elasticnet_wine_v2.yaml", tmp_path)
    assert not result.problems
    unit = next(u for u in result.units if u.container == "classifier")
    tail = ("--extra", "mlserver-mlflow", "--isolated", "--exec", "mlserver", "--", "start")
    assert unit.argv[-len(tail) - 1 : -1] == tail
    assert any(arg.startswith("gs://seldon-models/v1.12.0-dev/mlflow/elasticnet_wine=") for arg in unit.argv)
    env = dict(unit.env)
    assert env["MLSERVER_MODEL_IMPLEMENTATION"] == "mlserver_mlflow.MLflowRuntime"
    assert env["MLSERVER_MODEL_NAME"] == "classifier"
    assert unit.probe.path == "/v2/models/classifier/ready"


def test_the_v2_graph_without_a_source_for_its_mlserver_build_image_names_the_flag(tmp_path):
    [problem] = local_plan("graph-v2.yaml", tmp_path).problems
    assert "seldonio/mock-preprocessor:0.2.0" in problem and "--source" in problem, problem


def test_the_v2_graphs_mlserver_build_image_plans_mlserver_start_in_its_source_folder(tmp_path):
    folder = str(SOURCES / "scaling_preprocessor")
    result = local_plan("graph-v2.yaml", tmp_path, {"seldonio/mock-preprocessor": folder})
    assert not result.problems
    units = {u.container: u for u in result.units}
    unit = units["mock-preprocessor"]
    assert unit.argv[-8:-1] == ("--extra", "mlserver", "--isolated", "--exec", "mlserver", "--", "start")
    assert unit.argv[-1] == folder and unit.cwd == folder
    env = dict(unit.env)
    assert env["MLSERVER_MODELS_DIR"] == folder and env["MLSERVER_MODEL_NAME"] == "mock-preprocessor"
    assert unit.probe.path == "/v2/models/mock-preprocessor/ready"
    assert unit.probe.port == int(env["MLSERVER_HTTP_PORT"]) != units["model"].probe.port
    assert units["model"].probe.port == int(dict(units["model"].env)["MLSERVER_HTTP_PORT"])
