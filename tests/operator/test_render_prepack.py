"""Prepackaged servers and the storage initializer in rendered Deployments (the original's prepack cases)."""

import json

from seldon_graph.operator.render.desired import desired_state
from seldon_graph.operator.render.settings import OperatorSettings
from tests.support.schemas import validate_all


def sdep(graph, pods=None, annotations=None, name="prepack", **spec):
    predictor = {"name": "p1", "graph": graph}
    if pods is not None:
        predictor["componentSpecs"] = pods
    if annotations:
        spec["annotations"] = annotations
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"predictors": [predictor], **spec},
    }


def render(doc, environ=None):
    objects = desired_state(doc, OperatorSettings.from_env(environ or {}))
    validate_all(objects)
    return objects


def only_deployment(objects):
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    return deployment


def containers(deployment):
    return {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}


def env(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


SKLEARN = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "gs://seldon-models/sklearn/iris"}


def test_sklearn_seldon_protocol_with_storage_initializer():
    deployment = only_deployment(render(sdep(SKLEARN)))
    assert deployment["metadata"]["name"] == "prepack-p1-0-classifier"
    assert list(containers(deployment)) == ["classifier", "seldon-container-engine"]
    classifier = containers(deployment)["classifier"]
    assert classifier["image"] == "seldonio/sklearnserver:1.18.2"
    assert json.loads(env(classifier)["PREDICTIVE_UNIT_PARAMETERS"]) == [
        {"name": "model_uri", "value": "/mnt/models", "type": "STRING"}
    ]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["initContainers"] == [
        {
            "name": "classifier-model-initializer",
            "image": "seldonio/rclone-storage-initializer:1.18.2",
            "args": ["gs://seldon-models/sklearn/iris", "/mnt/models"],
            "imagePullPolicy": "IfNotPresent",
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "volumeMounts": [{"name": "classifier-provision-location", "mountPath": "/mnt/models"}],
        }
    ]
    assert {"name": "classifier-provision-location", "emptyDir": {}} in pod["volumes"]
    assert {"name": "classifier-provision-location", "mountPath": "/mnt/models", "readOnly": True} in classifier[
        "volumeMounts"
    ]


def test_storage_initializer_image_and_secret_overrides():
    graph = {**SKLEARN, "storageInitializerImage": "my/init:1", "envSecretRefName": "creds"}
    init = only_deployment(render(sdep(graph)))["spec"]["template"]["spec"]["initContainers"][0]
    assert init["image"] == "my/init:1" and init["envFrom"] == [{"secretRef": {"name": "creds"}}]
    init = only_deployment(
        render(
            sdep(SKLEARN),
            {
                "RELATED_IMAGE_STORAGE_INITIALIZER": "other/init:2",
                "PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME": "default-creds",
            },
        )
    )
    init = init["spec"]["template"]["spec"]["initContainers"][0]
    assert init["image"] == "other/init:2" and init["envFrom"] == [{"secretRef": {"name": "default-creds"}}]


def test_sklearn_v2_is_an_mlserver_container():
    deployment = only_deployment(render(sdep(SKLEARN, protocol="v2")))
    classifier = containers(deployment)["classifier"]
    assert classifier["image"] == "seldonio/mlserver:1.3.5-sklearn"
    values = env(classifier)
    assert (
        values["MLSERVER_MODEL_IMPLEMENTATION"],
        values["MLSERVER_MODEL_NAME"],
        values["MLSERVER_MODEL_URI"],
        values["MLSERVER_MODEL_VERSION"],
        values["MLSERVER_HTTP_PORT"],
    ) == ("mlserver_sklearn.SKLearnModel", "classifier", "/mnt/models", "v1", "9000")
    assert classifier["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    assert classifier["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
    assert classifier["livenessProbe"]["initialDelaySeconds"] == 60
    assert "tcpSocket" not in classifier["readinessProbe"]


def test_huggingface_needs_no_model_uri_and_gets_its_env():
    graph = {
        "name": "hf",
        "implementation": "HUGGINGFACE_SERVER",
        "parameters": [{"name": "task", "value": "text-generation", "type": "STRING"}],
    }
    deployment = only_deployment(render(sdep(graph, protocol="v2")))
    values = env(containers(deployment)["hf"])
    assert values["MLSERVER_PARALLEL_WORKERS"] == "0" and values["XDG_CACHE_HOME"] == "/opt/mlserver"
    assert "initContainers" not in deployment["spec"]["template"]["spec"]


def test_tensorflow_seldon_protocol_proxy_with_tfserving_container():
    graph = {"name": "classifier", "implementation": "TENSORFLOW_SERVER", "modelUri": "gs://m"}
    deployment = only_deployment(render(sdep(graph)))
    assert list(containers(deployment)) == ["classifier", "tfserving", "seldon-container-engine"]
    proxy, serving = containers(deployment)["classifier"], containers(deployment)["tfserving"]
    assert proxy["image"] == "seldonio/tfserving-proxy:1.18.2"
    assert json.loads(env(proxy)["PREDICTIVE_UNIT_PARAMETERS"]) == [
        {"name": "rest_endpoint", "value": "http://0.0.0.0:2001", "type": "STRING"},
        {"name": "grpc_endpoint", "value": "0.0.0.0:2000", "type": "STRING"},
        {"name": "model_name", "value": "classifier", "type": "STRING"},
    ]
    assert serving["image"] == "tensorflow/serving:2.1.0"
    assert "--port=2000" in serving["args"] and "--rest_api_port=2001" in serving["args"]
    assert {"name": "tfserving-provision-location", "mountPath": "/mnt/models", "readOnly": True} in serving[
        "volumeMounts"
    ]
    services = [o["metadata"]["name"] for o in desired_state(sdep(graph)) if o["kind"] == "Service"]
    assert services == ["prepack-p1-classifier", "prepack-p1"]


def test_tensorflow_protocol_runs_tf_serving_in_the_unit_container():
    graph = {"name": "classifier", "implementation": "TENSORFLOW_SERVER", "modelUri": "gs://m"}
    deployment = only_deployment(render(sdep(graph, protocol="tensorflow")))
    assert list(containers(deployment)) == ["classifier", "seldon-container-engine"]
    classifier = containers(deployment)["classifier"]
    assert classifier["image"] == "tensorflow/serving:2.1.0"
    assert "--port=9500" in classifier["args"] and "--rest_api_port=9000" in classifier["args"]


def test_user_tfserving_container_keeps_its_fields():
    graph = {"name": "classifier", "implementation": "TENSORFLOW_SERVER", "modelUri": "gs://m"}
    pods = [
        {
            "spec": {
                "containers": [
                    {"name": "classifier", "resources": {"requests": {"cpu": "2"}}},
                    {"name": "tfserving", "resources": {"requests": {"cpu": "2"}}},
                ]
            }
        }
    ]
    deployment = only_deployment(render(sdep(graph, pods)))
    serving = containers(deployment)["tfserving"]
    assert serving["resources"] == {"requests": {"cpu": "2"}} and "--port=2000" in serving["args"]
    assert containers(deployment)["classifier"]["resources"] == {"requests": {"cpu": "2"}}


def test_triton_without_storage_initializer_loads_from_the_uri():
    """Seldon's Triton parameter names, in the unit's order, `load_model` repeatable, names matched in any case.

    Expectation: addTritonServer in operator/controllers/seldondeployment_prepackaged_servers.go and the
    TritonArg* flags in operator/constants/constants.go (seldon-core v1.17.1).
    """
    graph = {
        "name": "triton",
        "implementation": "TRITON_SERVER",
        "modelUri": "s3://mybucket/mymodel",
        "envSecretRefName": "s3-credentials",
        "parameters": [
            {"name": "model_control_mode", "value": "explicit", "type": "STRING"},
            {"name": "load_model", "value": "model1", "type": "STRING"},
            {"name": "LOAD_MODEL", "value": "model2", "type": "STRING"},
            {"name": "strict_model_config", "value": "true", "type": "STRING"},
            {"name": "load-model", "value": "not-a-seldon-name", "type": "STRING"},
            {"name": "batch_size", "value": "4", "type": "INT"},
        ],
    }
    doc = sdep(graph, protocol="v2", annotations={"seldon.io/no-storage-initializer": "True"})
    doc["spec"]["predictors"][0]["annotations"] = {"seldon.io/no-engine": "true"}
    deployment = only_deployment(render(doc))
    assert list(containers(deployment)) == ["triton"]
    triton = containers(deployment)["triton"]
    assert triton["args"] == [
        "/opt/tritonserver/bin/tritonserver",
        "--grpc-port=9500",
        "--http-port=9000",
        "--model-repository=s3://mybucket/mymodel",
        "--model-control-mode=explicit",
        "--load-model=model1",
        "--load-model=model2",
        "--strict-model-config=true",
    ]
    assert triton["envFrom"] == [{"secretRef": {"name": "s3-credentials"}}]
    assert "initContainers" not in deployment["spec"]["template"]["spec"]
    assert triton["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert triton["readinessProbe"]["periodSeconds"] == 10


def test_triton_keeps_the_containers_own_args_and_takes_the_default_secret():
    """A componentSpec container's `args` win, and the default env secret reaches Triton loading from the URI.

    Expectation: addTritonServer (`if c.Args == nil`, extractEnvSecretRefName) in
    operator/controllers/seldondeployment_prepackaged_servers.go (seldon-core v1.17.1).
    """
    graph = {
        "name": "triton",
        "implementation": "TRITON_SERVER",
        "modelUri": "s3://mybucket/mymodel",
        "parameters": [{"name": "load_model", "value": "model1", "type": "STRING"}],
    }
    own_args = ["/opt/tritonserver/bin/tritonserver", "--model-repository=s3://mybucket/mymodel", "--log-verbose=1"]
    pods = [{"spec": {"containers": [{"name": "triton", "args": own_args}]}}]
    doc = sdep(graph, pods, protocol="v2", annotations={"seldon.io/no-storage-initializer": "true"})
    deployment = only_deployment(render(doc, {"PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME": "default-creds"}))
    triton = containers(deployment)["triton"]
    assert triton["args"] == own_args
    assert triton["envFrom"] == [{"secretRef": {"name": "default-creds"}}]


def test_triton_with_storage_initializer():
    graph = {"name": "triton", "implementation": "TRITON_SERVER", "modelUri": "gs://m"}
    deployment = only_deployment(render(sdep(graph, protocol="v2")))
    triton = containers(deployment)["triton"]
    assert triton["image"] == "nvcr.io/nvidia/tritonserver:21.08-py3"
    assert triton["args"][-2:] == ["--model-repository=/mnt/models", "--strict-model-config=false"]
    assert len(deployment["spec"]["template"]["spec"]["initContainers"]) == 1


def test_random_abtest_with_two_prepack_children():
    graph = {
        "name": "ab",
        "implementation": "RANDOM_ABTEST",
        "children": [{**SKLEARN, "name": "classifier1"}, {**SKLEARN, "name": "classifier2"}],
    }
    deployment = only_deployment(render(sdep(graph)))
    assert list(containers(deployment)) == ["classifier1", "classifier2", "seldon-container-engine"]
    assert [c["name"] for c in deployment["spec"]["template"]["spec"]["initContainers"]] == [
        "classifier1-model-initializer",
        "classifier2-model-initializer",
    ]
