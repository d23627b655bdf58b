"""The pure pieces behind running images locally: image → folder mappings, s2i folders, Secrets and ConfigMaps
as env, rclone's error line, and the plan of a prepackaged server and of a mapped image."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from seldon_graph.operator.local import model_store
from seldon_graph.operator.local.desired_objects import parse_local, render
from seldon_graph.operator.local.image_runs import LocalInputs
from seldon_graph.operator.local.resources import MissingReference, Resources
from seldon_graph.operator.local.sources import SourceError, folder_for, parse_mappings, read_source, split_image
from seldon_graph.operator.local.topology import Topology
from seldon_graph.operator.local.unit_plan import plan_units


class CountingPorts:
    def __init__(self):
        self.given: dict = {}

    def __call__(self, namespace: str, instance: str, port: int) -> int:
        return self.given.setdefault((instance, port), 20000 + len(self.given))


def test_images_map_to_folders_exact_tag_first_then_tagless(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    (tmp_path / "sources.yaml").write_text("myorg/model: a\nregistry:5000/x/y:2: c\n")
    found = parse_mappings(["myorg/model:0.3=b"], [tmp_path / "sources.yaml"], tmp_path)
    assert folder_for("myorg/model:0.3", found) == str(tmp_path / "b")
    assert folder_for("myorg/model:0.4", found) == str(tmp_path / "a")
    assert folder_for("registry:5000/x/y:2", found) == str(tmp_path / "c")
    assert folder_for("other/model:1", found) is None
    assert split_image("registry:5000/x/y") == ("registry:5000/x/y", "")
    with pytest.raises(SourceError, match="does not exist"):
        parse_mappings(["x=missing"], [], tmp_path)
    with pytest.raises(SourceError, match="IMAGE=DIR"):
        parse_mappings(["no-equals"], [], tmp_path)


def test_an_s2i_folder_keeps_its_environment_and_drops_the_seldon_core_requirement(tmp_path):
    (tmp_path / ".s2i").mkdir()
    (tmp_path / ".s2i" / "environment").write_text("# comment\nMODEL_NAME=MyModel\nSERVICE_TYPE='ROUTER'\n\nX=a=b\n")
    (tmp_path / "requirements.txt").write_text("seldon-core==1.17.1\nSeldon_Core>=1\nseldon-core-extra\nsix  # why\n")
    source = read_source(str(tmp_path))
    assert source.env == {"MODEL_NAME": "MyModel", "SERVICE_TYPE": "ROUTER", "X": "a=b"}
    assert source.requirements == ("seldon-core-extra", "six")


def test_secrets_and_config_maps_resolve_env_and_name_what_is_missing():
    resources = Resources.from_documents(
        [
            {"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": base64.b64encode(b"v1").decode()}},
            {"kind": "Secret", "metadata": {"name": "t", "namespace": "other"}, "stringData": {"K": "v2"}},
            {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "seldon"}, "data": {"A": "1"}},
        ]
    )
    assert resources.value_from({"secretKeyRef": {"name": "s", "key": "k"}}, "seldon", "X") == "v1"
    assert resources.value_from({"configMapKeyRef": {"name": "c", "key": "A"}}, "seldon", "X") == "1"
    assert resources.value_from({"secretKeyRef": {"name": "t", "key": "K", "optional": True}}, "seldon", "X") is None
    with pytest.raises(MissingReference, match="Secret 't'"):
        resources.value_from({"secretKeyRef": {"name": "t", "key": "K"}}, "seldon", "X")
    with pytest.raises(MissingReference, match="Secret 's' key 'nope'"):
        resources.value_from({"secretKeyRef": {"name": "s", "key": "nope"}}, "seldon", "X")
    pairs = resources.env_from(
        [{"configMapRef": {"name": "c"}, "prefix": "P_"}, {"secretRef": {"name": "s"}}], "seldon"
    )
    assert pairs == [("P_A", "1"), ("k", "v1")]


def test_rclone_error_line_is_its_first_error_without_the_timestamp():
    log = (
        "2026/11/30 03:11:03 NOTICE: Config file not found - using defaults\n"
        "2026/11/30 03:11:03 ERROR : Local file system at /x: error reading source root directory: directory not found\n"
        "2026/11/30 03:11:03 NOTICE: Failed to copy: directory not found\n"
    )
    assert (
        model_store.error_line(log)
        == "Local file system at /x: error reading source root directory: directory not found"
    )
    assert model_store.local_path("file:///models/iris", "/work") == "/models/iris"
    assert model_store.local_path("./iris", "/work") == "/work/iris"
    assert model_store.local_path("gs://bucket/iris", "/work") is None
    assert model_store.local_path("s3:bucket/iris", "/work") is None


def _sklearn(secret: str = "") -> dict:
    graph = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "gs://b/iris"}
    if secret:
        graph["envSecretRefName"] = secret
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": "iris", "namespace": "seldon"},
        "spec": {"predictors": [{"name": "default", "graph": graph}]},
    }


def test_a_prepackaged_server_runs_the_launcher_with_its_model_folder_and_secret():
    manifest = _sklearn("store")
    objects = render(parse_local(manifest), "ambassador")
    topology = Topology(objects, "seldon", CountingPorts())
    secret = {"kind": "Secret", "metadata": {"name": "store"}, "stringData": {"RCLONE_CONFIG_GS_TYPE": "alias"}}
    inputs = LocalInputs(
        resources=Resources.from_documents([secret]),
        servers={("default", "classifier"): "SKLEARN_SERVER"},
        envs_dir="/state/envs",
        models_dir="/state/models",
        phases_dir="/state/phases",
    )
    result = plan_units(objects, "seldon", "iris", topology, "/work", inputs=inputs)
    assert not result.problems
    unit = next(u for u in result.units if u.container == "classifier")
    folder = str(model_store.cache_dir(Path("/state/models"), "gs://b/iris"))
    assert f"--model=gs://b/iris={folder}" in " ".join(unit.argv).replace("--model ", "--model=")
    assert (
        "--extra" in unit.argv and "sklearn-server" in unit.argv and "--storage-env=RCLONE_CONFIG_GS_TYPE" in unit.argv
    )
    assert unit.argv[-3:] == ("seldon_graph.wrappers.servers.sklearn_server.SKLearnServer", "--service-type", "MODEL")
    env = dict(unit.env)
    assert env["RCLONE_CONFIG_GS_TYPE"] == "alias"
    assert f'"value":"{folder}"' in env["PREDICTIVE_UNIT_PARAMETERS"]
    assert unit.phase_file.startswith("/state/phases/")


def test_a_missing_secret_is_a_problem_naming_it():
    objects = render(parse_local(_sklearn("absent")), "ambassador")
    inputs = LocalInputs(servers={("default", "classifier"): "SKLEARN_SERVER"})
    result = plan_units(objects, "seldon", "iris", Topology(objects, "seldon", CountingPorts()), "/work", inputs=inputs)
    assert any("Secret 'absent' (envFrom)" in p for p in result.problems)


def _v2_plan(implementation: str, protocol: str = "v2", env: list | None = None):
    manifest = _sklearn()
    manifest["spec"]["protocol"] = protocol
    manifest["spec"]["predictors"][0]["graph"]["implementation"] = implementation
    if env is not None:
        container = {"name": "classifier", "env": env}
        manifest["spec"]["predictors"][0]["componentSpecs"] = [{"spec": {"containers": [container]}}]
    objects = render(parse_local(manifest), "ambassador")
    topology = Topology(objects, "seldon", CountingPorts())
    inputs = LocalInputs(
        servers={("default", "classifier"): implementation},
        protocol=protocol,
        envs_dir="/state/envs",
        models_dir="/state/models",
        phases_dir="/state/phases",
        server_files_dir="/state/server-files",
    )
    return plan_units(objects, "seldon", "iris", topology, "/work", inputs=inputs), topology


@pytest.mark.parametrize(
    ("implementation", "extra", "protocol"),
    [
        ("SKLEARN_SERVER", "mlserver-sklearn", "v2"),
        ("XGBOOST_SERVER", "mlserver-xgboost", "v2"),
        ("MLFLOW_SERVER", "mlserver-mlflow", "kfserving"),
        ("HUGGINGFACE_SERVER", "mlserver-huggingface", "v2"),
    ],
)
def test_a_v2_prepackaged_server_runs_mlserver_start_from_its_runtime_env(implementation, extra, protocol):
    result, topology = _v2_plan(implementation, protocol)
    assert not result.problems
    unit = next(u for u in result.units if u.container == "classifier")
    folder = str(model_store.cache_dir(Path("/state/models"), "gs://b/iris"))
    tail = ("--extra", extra, "--isolated", "--exec", "mlserver", "--", "start", folder)
    assert unit.argv[-len(tail) :] == tail
    assert f"gs://b/iris={folder}" in unit.argv
    env = dict(unit.env)
    instance = topology.instance(unit.pod)
    assert env["MLSERVER_MODEL_URI"] == env["MLSERVER_MODELS_DIR"] == folder
    assert env["MLSERVER_HTTP_PORT"] == str(topology.pod_port(unit.pod, 9000))
    assert env["MLSERVER_GRPC_PORT"] == str(topology.pod_port(unit.pod, 9500))
    assert env["MLSERVER_METRICS_PORT"] == str(topology.pod_port(unit.pod, 6000))
    assert env["MLSERVER_HOST"] == "127.0.0.1" and env["MLSERVER_MODEL_NAME"] == "classifier"
    assert env["MLSERVER_METRICS_DIR"] == f"/state/server-files/{instance}.classifier/metrics"
    assert (unit.probe.kind, unit.probe.port, unit.probe.path) == (
        "http",
        int(env["MLSERVER_HTTP_PORT"]),
        "/v2/models/classifier/ready",
    )
    assert unit.phase_file.startswith("/state/phases/")


def test_the_manifest_env_wins_over_what_the_mlserver_image_sets():
    result, _ = _v2_plan("SKLEARN_SERVER", env=[{"name": "MLSERVER_HOST", "value": "0.0.0.0"}])
    unit = next(u for u in result.units if u.container == "classifier")
    assert dict(unit.env)["MLSERVER_HOST"] == "0.0.0.0"


def test_an_mlserver_runtime_no_extra_provides_is_a_problem_naming_its_module():
    result, _ = _v2_plan("TEMPO_SERVER")
    [problem] = result.problems
    assert "MLSERVER_MODEL_IMPLEMENTATION=tempo.mlserver.InferenceRuntime" in problem and "'tempo'" in problem


def test_an_mlserver_build_folder_runs_mlserver_start_with_its_requirements_on_mlserver(tmp_path):
    """A folder with MLServer's settings at its top is what `mlserver build` makes an image of: `mlserver start`
    in it from the isolated env of MLServer plus its requirements (an `mlserver` pin yields to the project's)."""
    (tmp_path / "settings.json").write_text("{}")
    (tmp_path / "environment").write_text("MODEL_NAME=Ignored\n")
    (tmp_path / "requirements.txt").write_text("mlserver==1.3.5\nsix>=1  # used by the runtime\n")
    source = read_source(str(tmp_path))
    assert source.mlserver and source.requirements == ("six>=1",) and source.env == {}
    manifest = _sklearn()
    manifest["spec"]["protocol"] = "v2"
    container = {"name": "transformer", "image": "myorg/transformer:0.1"}
    manifest["spec"]["predictors"][0]["componentSpecs"] = [{"spec": {"containers": [container]}}]
    manifest["spec"]["predictors"][0]["graph"] = {"name": "transformer", "type": "MODEL"}
    objects = render(parse_local(manifest), "ambassador")
    topology = Topology(objects, "seldon", CountingPorts())
    inputs = LocalInputs(
        sources={"myorg/transformer": str(tmp_path)},
        s2i={str(tmp_path): source},
        protocol="v2",
        envs_dir="/state/envs",
        phases_dir="/state/phases",
        server_files_dir="/state/server-files",
    )
    result = plan_units(objects, "seldon", "iris", topology, "/work", inputs=inputs)
    assert not result.problems
    unit = next(u for u in result.units if u.container == "transformer")
    tail = ("--extra", "mlserver", "--requirement=six>=1", "--isolated", "--exec", "mlserver", "--", "start")
    assert unit.argv[-len(tail) - 1 :] == (*tail, str(tmp_path)) and unit.cwd == str(tmp_path)
    env = dict(unit.env)
    assert env["MLSERVER_MODELS_DIR"] == str(tmp_path) and env["MLSERVER_MODEL_NAME"] == "transformer"
    assert env["MLSERVER_HOST"] == "127.0.0.1" and "MODEL_NAME" not in env
    instance = topology.instance(unit.pod)
    assert env["MLSERVER_ENVIRONMENTS_DIR"] == f"/state/server-files/{instance}.transformer/environments"
    assert (unit.probe.kind, unit.probe.port, unit.probe.path) == (
        "http",
        int(env["MLSERVER_HTTP_PORT"]),
        "/v2/models/transformer/ready",
    )
