"""Rendering a SeldonDeployment into Kubernetes objects: names, labels, selectors, engine, env, probes, Services.

Every rendered manifest is validated (strictly) against the published schemas.
"""

import base64
import json

import pytest
import yaml

from seldon_graph.operator.render.desired import RenderError, desired_state
from seldon_graph.operator.render.settings import OperatorSettings
from seldon_graph.sdep import parse_predictor
from tests.support.schemas import validate_all


def sdep(predictors, name="iris", namespace="seldon", annotations=None, uid=None, **spec):
    metadata = {"name": name, "namespace": namespace}
    if uid:
        metadata["uid"] = uid
    if annotations is not None:
        spec["annotations"] = annotations
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": metadata,
        "spec": {"predictors": predictors, **spec},
    }


def pod(*names, **extra):
    return {"spec": {"containers": [{"name": n, "image": f"repo/{n}:1"} for n in names]}, **extra}


def predictor(name="main", graph=None, pods=None, **extra):
    return {
        "name": name,
        "componentSpecs": pods if pods is not None else [pod("classifier")],
        "graph": graph or {"name": "classifier", "type": "MODEL"},
        **extra,
    }


def render(doc, settings=None):
    objects = desired_state(doc, settings or OperatorSettings())
    validate_all(objects)
    return objects


def by_kind(objects, kind):
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def containers(deployment):
    return {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}


def env(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def test_single_model_objects_names_and_order():
    objects = render(sdep([predictor()]))
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Deployment", "iris-main-0-classifier"),
        ("Service", "iris-main-classifier"),
        ("Service", "iris-main"),
    ]
    assert all(o["metadata"]["namespace"] == "seldon" for o in objects)


def test_model_deployment_labels_selector_and_pod_defaults():
    deployment = by_kind(render(sdep([predictor()])), "Deployment")["iris-main-0-classifier"]
    assert deployment["metadata"]["labels"] == {
        "app": "iris-main-0-classifier",
        "app.kubernetes.io/managed-by": "seldon-core",
        "fluentd": "true",
        "seldon-app": "iris-main",
        "seldon-app-svc-classifier": "iris-main-classifier",
        "seldon-deployment-contains-svcorch": "true",
        "seldon-deployment-id": "iris",
        "seldon.io/model": "true",
        "version": "main",
    }
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "seldon-app": "iris-main",
        "seldon-app-svc-classifier": "iris-main-classifier",
        "seldon-deployment-id": "iris",
    }
    template = deployment["spec"]["template"]
    assert set(deployment["spec"]["selector"]["matchLabels"].items()) <= set(template["metadata"]["labels"].items())
    assert "seldon-deployment-contains-svcorch" not in template["metadata"]["labels"]
    assert template["metadata"]["annotations"] == {"prometheus.io/path": "/prometheus", "prometheus.io/scrape": "true"}
    spec = template["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["schedulerName"], spec["terminationGracePeriodSeconds"]) == (
        "Always",
        "ClusterFirst",
        "default-scheduler",
        20,
    )
    assert spec["volumes"] == [
        {
            "name": "seldon-podinfo",
            "downwardAPI": {
                "defaultMode": 420,
                "items": [
                    {"path": "annotations", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.annotations"}}
                ],
            },
        }
    ]
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}}
    assert "replicas" not in deployment["spec"] and "ownerReferences" not in deployment["metadata"]


def test_user_container_ports_probes_and_injected_env():
    graph = {
        "name": "classifier",
        "type": "MODEL",
        "modelUri": "gs://m",
        "parameters": [{"name": "a", "value": "1", "type": "INT"}],
    }
    deployment = by_kind(render(sdep([predictor(graph=graph, labels={"team": "x"})])), "Deployment")
    container = containers(deployment["iris-main-0-classifier"])["classifier"]
    assert container["ports"] == [
        {"name": "metrics", "containerPort": 6000, "protocol": "TCP"},
        {"name": "http", "containerPort": 9000, "protocol": "TCP"},
        {"name": "grpc", "containerPort": 9500, "protocol": "TCP"},
    ]
    assert container["livenessProbe"] == {
        "tcpSocket": {"port": 9000},
        "initialDelaySeconds": 60,
        "periodSeconds": 5,
        "successThreshold": 1,
        "failureThreshold": 3,
        "timeoutSeconds": 1,
    }
    assert container["readinessProbe"]["initialDelaySeconds"] == 20
    assert container["lifecycle"] == {"preStop": {"exec": {"command": ["/bin/sh", "-c", "/bin/sleep 10"]}}}
    assert [e["name"] for e in container["env"]] == [
        "PREDICTIVE_UNIT_SERVICE_PORT",
        "PREDICTIVE_UNIT_HTTP_SERVICE_PORT",
        "MLSERVER_HTTP_PORT",
        "PREDICTIVE_UNIT_GRPC_SERVICE_PORT",
        "MLSERVER_GRPC_PORT",
        "PREDICTIVE_UNIT_PARAMETERS",
        "MLSERVER_MODEL_URI",
        "PREDICTIVE_UNIT_ID",
        "MLSERVER_MODEL_NAME",
        "PREDICTIVE_UNIT_IMAGE",
        "PREDICTOR_ID",
        "PREDICTOR_LABELS",
        "SELDON_DEPLOYMENT_ID",
        "SELDON_EXECUTOR_ENABLED",
        "PREDICTIVE_UNIT_METRICS_SERVICE_PORT",
        "PREDICTIVE_UNIT_METRICS_ENDPOINT",
        "MLSERVER_METRICS_PORT",
        "MLSERVER_METRICS_ENDPOINT",
    ]
    values = env(container)
    assert values["PREDICTIVE_UNIT_PARAMETERS"] == '[{"name":"a","value":"1","type":"INT"}]'
    assert values["PREDICTOR_LABELS"] == '{"team":"x","version":"main"}'
    assert (values["PREDICTIVE_UNIT_IMAGE"], values["SELDON_DEPLOYMENT_ID"], values["PREDICTOR_ID"]) == (
        "repo/classifier:1",
        "iris",
        "main",
    )
    assert container["volumeMounts"] == [
        {"name": "seldon-podinfo", "mountPath": "/etc/podinfo"},
        {"name": "classifier-provision-location", "mountPath": "/mnt/models", "readOnly": True},
    ]


def test_user_set_env_and_probes_are_kept():
    pods = [
        {
            "spec": {
                "containers": [
                    {
                        "name": "classifier",
                        "image": "i",
                        "env": [
                            {"name": "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", "value": "1"},
                            {"name": "MINE", "value": "x"},
                        ],
                        "readinessProbe": {"httpGet": {"path": "/health/ping", "port": "http"}},
                    }
                ]
            }
        }
    ]
    deployment = by_kind(render(sdep([predictor(pods=pods)])), "Deployment")["iris-main-0-classifier"]
    container = containers(deployment)["classifier"]
    values = env(container)
    assert values["PREDICTIVE_UNIT_HTTP_SERVICE_PORT"] == "1" and values["MINE"] == "x"
    assert values["PREDICTIVE_UNIT_ID"] == "classifier"
    assert container["readinessProbe"] == {"httpGet": {"path": "/health/ping", "port": "http"}}


def test_grpc_transport_probes_the_grpc_port():
    deployment = by_kind(render(sdep([predictor()], transport="grpc")), "Deployment")["iris-main-0-classifier"]
    container = containers(deployment)["classifier"]
    assert container["livenessProbe"]["tcpSocket"]["port"] == 9500
    assert env(container)["PREDICTIVE_UNIT_SERVICE_PORT"] == "9500"
    assert "--transport" in containers(deployment)["seldon-container-engine"]["args"]


def test_engine_container():
    doc = sdep(
        [predictor(traffic=100, svcOrchSpec={"env": [{"name": "SELDON_LOG_LEVEL", "value": "DEBUG"}]})],
        annotations={
            "seldon.io/engine-seldon-log-level": "INFO",
            "seldon.io/engine-foo-bar": "1",
            "seldon.io/engine-separate-pod": "false",
            "seldon.io/executor-logger-queue-size": "7",
        },
        protocol="v2",
    )
    deployment = by_kind(render(doc), "Deployment")["iris-main-0-classifier"]
    names = [c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert names == ["classifier", "seldon-container-engine"]
    engine = containers(deployment)["seldon-container-engine"]
    assert engine["image"] == "ghcr.io/seldon-graph/seldon-graph:0.1.0" and engine["command"] == ["seldon-engine"]
    assert engine["args"] == [
        "--sdep",
        "iris",
        "--namespace",
        "seldon",
        "--predictor",
        "main",
        "--http_port",
        "8000",
        "--grpc_port",
        "5001",
        "--protocol",
        "v2",
        "--transport",
        "rest",
        "--prometheus_path",
        "/prometheus",
        "--server_type",
        "rpc",
        "--log_work_buffer_size",
        "7",
        "--log_write_timeout_ms",
        "2000",
        "--full_health_checks=false",
    ]
    assert [e["name"] for e in engine["env"]] == [
        "ENGINE_PREDICTOR",
        "REQUEST_LOGGER_DEFAULT_ENDPOINT",
        "SELDON_LOG_LEVEL",
        "FOO_BAR",
    ]
    assert env(engine)["SELDON_LOG_LEVEL"] == "DEBUG"
    assert engine["ports"] == [
        {"name": "http", "containerPort": 8000, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 8000, "protocol": "TCP"},
        {"name": "grpc", "containerPort": 5001, "protocol": "TCP"},
    ]
    assert engine["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 8000, "scheme": "HTTP"}
    assert engine["livenessProbe"]["httpGet"] == {"path": "/live", "port": 8000, "scheme": "HTTP"}
    assert engine["readinessProbe"]["timeoutSeconds"] == 60
    assert engine["resources"] == {
        "requests": {"cpu": "0.5", "memory": "512Mi"},
        "limits": {"cpu": "0.5", "memory": "512Mi"},
    }
    assert "securityContext" not in engine


def test_engine_predictor_is_the_defaulted_predictor_without_traffic():
    doc = sdep([predictor("a", traffic=60, replicas=2), predictor("b", traffic=40)])
    deployment = by_kind(render(doc), "Deployment")["iris-a-0-classifier"]
    encoded = env(containers(deployment)["seldon-container-engine"])["ENGINE_PREDICTOR"]
    lone = parse_predictor(base64.b64decode(encoded).decode())
    assert lone.name == "a" and lone.traffic is None and lone.replicas is None
    assert lone.graph.endpoint.to_dict() == {
        "service_host": "localhost",
        "service_port": 9000,
        "httpPort": 9000,
        "grpcPort": 9500,
    }
    assert lone.labels == {"version": "a"}


def test_engine_settings_from_env():
    settings = OperatorSettings.from_env(
        {
            "RELATED_IMAGE_EXECUTOR": "my/engine:2",
            "ENGINE_CONTAINER_COMMAND": "",
            "EXECUTOR_CONTAINER_USER": "8888",
            "EXECUTOR_SERVER_PORT": "8080",
            "EXECUTOR_SERVER_GRPC_PORT": "5005",
            "ENGINE_SERVER_PORT": "8080",
            "ENGINE_SERVER_GRPC_PORT": "5005",
            "DEFAULT_USER_ID": "1000",
            "EXECUTOR_FULL_HEALTH_CHECKS": "true",
            "EXECUTOR_DEFAULT_CPU_REQUEST": "1",
        }
    )
    objects = render(sdep([predictor()]), settings)
    deployment = by_kind(objects, "Deployment")["iris-main-0-classifier"]
    engine = containers(deployment)["seldon-container-engine"]
    assert engine["image"] == "my/engine:2" and "command" not in engine
    assert engine["securityContext"] == {"runAsUser": 8888, "allowPrivilegeEscalation": False}
    assert "--full_health_checks=true" in engine["args"] and engine["args"][7:10] == ["8080", "--grpc_port", "5005"]
    assert engine["resources"]["requests"]["cpu"] == "1"
    assert deployment["spec"]["template"]["spec"]["securityContext"] == {"runAsUser": 1000}
    service = by_kind(objects, "Service")["iris-main"]
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(8080, 8080), (5005, 5005)]


def test_bad_logger_annotation_is_a_render_error():
    with pytest.raises(RenderError, match="seldon.io/executor-logger-queue-size: 'soon' is not an integer"):
        desired_state(sdep([predictor()], annotations={"seldon.io/executor-logger-queue-size": "soon"}))


def test_services():
    doc = sdep([predictor(annotations={"team": "a"})], annotations={"seldon.io/headless-svc": "true"})
    services = by_kind(render(doc), "Service")
    assert services["iris-main-classifier"] == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "iris-main-classifier",
            "namespace": "seldon",
            "labels": {
                "app.kubernetes.io/managed-by": "seldon-core",
                "seldon-app": "iris-main",
                "seldon-app-svc-classifier": "iris-main-classifier",
                "seldon-deployment-id": "iris",
                "seldon.io/model": "true",
            },
            "annotations": {"team": "a"},
        },
        "spec": {
            "type": "ClusterIP",
            "sessionAffinity": "None",
            "selector": {"seldon-app-svc-classifier": "iris-main-classifier"},
            "ports": [
                {"name": "http", "port": 9000, "targetPort": 9000, "protocol": "TCP"},
                {"name": "grpc", "port": 9500, "targetPort": 9500, "protocol": "TCP"},
            ],
        },
    }
    main = services["iris-main"]
    assert main["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "seldon-core",
        "seldon-app": "iris-main",
        "seldon-deployment-id": "iris",
    }
    assert main["spec"]["clusterIP"] == "None" and main["spec"]["selector"] == {"seldon-app": "iris-main"}
    assert "clusterIP" not in by_kind(render(sdep([predictor()])), "Service")["iris-main"]["spec"]


def test_graph_over_two_pods_and_sidecars():
    graph = {
        "name": "combiner",
        "type": "COMBINER",
        "children": [{"name": "a", "type": "MODEL"}, {"name": "b", "type": "TRANSFORMER"}],
    }
    pods = [pod("combiner", "sidecar"), pod("a", "b")]
    objects = render(sdep([predictor(graph=graph, pods=pods)]))
    deployments = by_kind(objects, "Deployment")
    assert list(deployments) == ["iris-main-0-combiner-sidecar", "iris-main-1-a-b"]
    first, second = deployments.values()
    assert list(containers(first)) == ["combiner", "sidecar", "seldon-container-engine"]
    assert "ports" not in containers(first)["sidecar"]
    assert second["metadata"]["labels"]["seldon.io/model"] == "true"
    assert second["metadata"]["labels"]["seldon.io/transformer"] == "true"
    assert "seldon-app" not in second["spec"]["selector"]["matchLabels"]
    assert list(by_kind(objects, "Service")) == ["iris-main-combiner", "iris-main-a", "iris-main-b", "iris-main"]
    predictor_env = json.loads(base64.b64decode(env(containers(first)["seldon-container-engine"])["ENGINE_PREDICTOR"]))
    hosts = [c["endpoint"]["service_host"] for c in predictor_env["graph"]["children"]]
    assert hosts == ["iris-main-a.seldon.svc.cluster.local", "iris-main-b.seldon.svc.cluster.local"]


def test_no_engine_predictor():
    doc = sdep([predictor(annotations={"seldon.io/no-engine": "true"})])
    objects = render(doc)
    deployment = by_kind(objects, "Deployment")["iris-main-0-classifier"]
    assert list(containers(deployment)) == ["classifier"]
    assert deployment["spec"]["selector"]["matchLabels"]["seldon-app"] == "iris-main"
    assert deployment["spec"]["template"]["metadata"]["labels"]["seldon-app"] == "iris-main"
    assert "seldon-deployment-contains-svcorch" not in deployment["metadata"]["labels"]
    service = by_kind(objects, "Service")["iris-main"]
    assert [(p["name"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [
        ("http", 9000, 9000),
        ("grpc", 9500, 9500),
    ]
    assert service["metadata"]["labels"]["seldon.io/model"] == "true"


def test_separate_engine_pod():
    doc = sdep(
        [predictor(labels={"version": "v2"}, svcOrchSpec={"replicas": 3})],
        annotations={"seldon.io/engine-separate-pod": "true"},
    )
    objects = render(doc, OperatorSettings.from_env({"DEFAULT_USER_ID": "5"}))
    deployments = by_kind(objects, "Deployment")
    assert list(deployments) == ["iris-main-svc-orch", "iris-main-0-classifier"]
    orch, model = deployments.values()
    assert list(containers(orch)) == ["seldon-container-engine"]
    assert list(containers(model)) == ["classifier"]
    assert orch["spec"]["replicas"] == 3
    assert orch["spec"]["selector"]["matchLabels"] == {"seldon-app": "iris-main", "seldon-deployment-id": "iris"}
    assert orch["metadata"]["labels"] == {
        "app": "iris-main-svc-orch",
        "fluentd": "true",
        "seldon-app": "iris-main",
        "seldon-deployment-contains-svcorch": "true",
        "seldon-deployment-id": "iris",
        "version": "v2",
    }
    pod_spec = orch["spec"]["template"]["spec"]
    assert (pod_spec["serviceAccountName"], pod_spec["securityContext"]) == ("default", {"runAsUser": 5})
    assert "seldon-app" not in model["spec"]["selector"]["matchLabels"]
    lone = json.loads(base64.b64decode(env(containers(orch)["seldon-container-engine"])["ENGINE_PREDICTOR"]))
    assert lone["graph"]["endpoint"]["service_host"] == "iris-main-classifier.seldon.svc.cluster.local"


@pytest.mark.parametrize(
    "component, predictor_replicas, spec_replicas, expected",
    [(4, 3, 2, 4), (None, 3, 2, 3), (None, None, 2, 2), (None, None, None, None), (None, 0, 2, 0)],
)
def test_replica_precedence(component, predictor_replicas, spec_replicas, expected):
    pods = [pod("classifier", **({"replicas": component} if component is not None else {}))]
    extra = {"replicas": predictor_replicas} if predictor_replicas is not None else {}
    spec = {"replicas": spec_replicas} if spec_replicas is not None else {}
    deployment = by_kind(render(sdep([predictor(pods=pods, **extra)], **spec)), "Deployment")["iris-main-0-classifier"]
    assert deployment["spec"].get("replicas") == expected


def test_owner_references_when_the_uid_is_known():
    objects = render(sdep([predictor()], uid="0b1e7c36-1111-2222-3333-444455556666"))
    for obj in objects:
        assert obj["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "machinelearning.seldon.io/v1",
                "kind": "SeldonDeployment",
                "name": "iris",
                "uid": "0b1e7c36-1111-2222-3333-444455556666",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]


def test_annotations_precedence_on_deployments():
    pods = [pod("classifier", metadata={"annotations": {"k": "component", "c": "1"}, "labels": {"extra": "y"}})]
    doc = sdep([predictor(pods=pods, annotations={"k": "predictor", "p": "1"})], annotations={"k": "spec", "s": "1"})
    deployment = by_kind(render(doc), "Deployment")["iris-main-0-classifier"]
    assert deployment["metadata"]["annotations"] == {"c": "1", "k": "component", "p": "1", "s": "1"}
    assert deployment["spec"]["template"]["metadata"]["annotations"]["k"] == "component"
    assert deployment["spec"]["template"]["metadata"]["labels"]["extra"] == "y"


def test_shadow_labels():
    doc = sdep([predictor("main"), predictor("shadow", shadow=True)])
    objects = render(doc)
    assert (
        by_kind(objects, "Deployment")["iris-shadow-0-classifier"]["metadata"]["labels"]["seldon.io/shadow"] == "true"
    )
    assert by_kind(objects, "Service")["iris-shadow-classifier"]["metadata"]["labels"]["seldon.io/shadow"] == "true"
    assert "seldon.io/shadow" not in by_kind(objects, "Deployment")["iris-main-0-classifier"]["metadata"]["labels"]


def test_ssl_mounts_the_certificate_and_probes_over_https():
    objects = render(sdep([predictor(ssl={"certSecretName": "my-cert"})]))
    deployment = by_kind(objects, "Deployment")["iris-main-0-classifier"]
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert {"name": "seldon-cert-volume", "secret": {"secretName": "my-cert"}} in volumes
    for container in containers(deployment).values():
        assert {"name": "seldon-cert-volume", "mountPath": "/cert/", "readOnly": True} in container["volumeMounts"]
        assert env(container)["SELDON_CERT_MOUNT_PATH"] == "/cert/"
    assert containers(deployment)["seldon-container-engine"]["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"


def test_long_names_are_hashed_as_the_original():
    name = "seldon-model-1234567890-1234567890-1234567890-1234567890-1234567890"
    objects = render(sdep([predictor("p1")], name=name))
    assert list(by_kind(objects, "Deployment")) == ["seldon-5fdf818e3b842e9129a341471ed46232"]
    assert list(by_kind(objects, "Service")) == [
        "seldon-1b3aa4899999fbb66914187a059490d0",
        "seldon-587bb9225779dd0ae9335ad02964c78e",
    ]
    deployment = by_kind(objects, "Deployment")["seldon-5fdf818e3b842e9129a341471ed46232"]
    assert deployment["metadata"]["labels"]["seldon-deployment-id"] == "seldon-83a2ff7bfcb4fd45246a1b2c4ef40961"
    assert env(containers(deployment)["classifier"])["SELDON_DEPLOYMENT_ID"] == name


def test_deployment_name_as_prefix():
    name = "s"
    long_predictor = "C12345678912345678901234567890123456789012345678901234567890".lower()
    settings = OperatorSettings.from_env({"DEPLOYMENT_NAME_AS_PREFIX": "true"})
    objects = desired_state(
        sdep([predictor(long_predictor, pods=[pod("m")], graph={"name": "m"})], name=name), settings
    )
    assert (
        list(by_kind(objects, "Deployment"))[0].startswith("s-") and len(list(by_kind(objects, "Deployment"))[0]) == 34
    )


def test_svc_name_annotation_names_the_predictor_service():
    objects = render(sdep([predictor(annotations={"seldon.io/svc-name": "custom"})]))
    assert "custom" in by_kind(objects, "Service")
    deployment = by_kind(objects, "Deployment")["iris-main-0-classifier"]
    assert deployment["spec"]["selector"]["matchLabels"]["seldon-app"] == "custom"


def test_rendering_is_deterministic_bytes():
    doc = sdep(
        [predictor("a", traffic=50, labels={"z": "1", "a": "2"}), predictor("b", traffic=50)],
        annotations={"seldon.io/engine-b": "1", "seldon.io/engine-a": "2"},
    )
    first = yaml.safe_dump_all(desired_state(doc), sort_keys=False)
    second = yaml.safe_dump_all(desired_state(json.loads(json.dumps(doc))), sort_keys=False)
    assert first == second
    assert json.dumps(desired_state(doc)) == json.dumps(desired_state(doc))


def test_engine_injection_needs_a_localhost_unit():
    graph = {"name": "a", "children": [{"name": "b"}]}
    with pytest.raises(RenderError, match="no unit with a localhost service - not clear where to inject the engine"):
        desired_state(sdep([predictor(graph=graph, pods=[pod("x"), pod("a", "b")])]))


def test_invalid_or_malformed_sdeps_are_render_errors():
    with pytest.raises(RenderError, match='spec.predictors\\[0\\].shadow: Invalid value: "main": Shadow can not exist'):
        desired_state(sdep([predictor(shadow=True)]))
    with pytest.raises(RenderError, match="spec.predictors\\[0\\].typo: unknown field"):
        desired_state(sdep([predictor(typo=1)]))


def test_logger_settings_from_metadata_annotations_and_env():
    doc = sdep([predictor()])
    doc["metadata"]["annotations"] = {
        "seldon.io/executor-logger-queue-size": "22",
        "seldon.io/executor-logger-write-timeout-ms": "5",
    }
    engine = containers(by_kind(render(doc), "Deployment")["iris-main-0-classifier"])["seldon-container-engine"]
    assert engine["args"][-5:-1] == ["--log_work_buffer_size", "22", "--log_write_timeout_ms", "5"]
    settings = OperatorSettings.from_env(
        {"EXECUTOR_REQUEST_LOGGER_WORK_QUEUE_SIZE": "1", "EXECUTOR_REQUEST_LOGGER_WRITE_TIMEOUT_MS": "750"}
    )
    engine = containers(by_kind(render(sdep([predictor()]), settings), "Deployment")["iris-main-0-classifier"])
    assert engine["seldon-container-engine"]["args"][-5:-1] == [
        "--log_work_buffer_size",
        "1",
        "--log_write_timeout_ms",
        "750",
    ]
    doc = sdep([predictor()])
    doc["metadata"]["annotations"] = {"seldon.io/executor-logger-write-timeout-ms": "soon"}
    with pytest.raises(
        RenderError,
        match="executor-logger-write-timeout-ms: 'soon' is not an integer .*EXECUTOR_REQUEST_LOGGER_WRITE_TIMEOUT_MS",
    ):
        render(doc)


def test_pod_security_context_precedence():
    settings = OperatorSettings.from_env({"DEFAULT_USER_ID": "5556"})
    own = [{"spec": {"containers": [{"name": "classifier", "image": "i"}], "securityContext": {"runAsUser": 5555}}}]
    deployment = by_kind(render(sdep([predictor(pods=own)]), settings), "Deployment")["iris-main-0-classifier"]
    assert deployment["spec"]["template"]["spec"]["securityContext"] == {"runAsUser": 5555}
    deployment = by_kind(render(sdep([predictor()]), settings), "Deployment")["iris-main-0-classifier"]
    assert deployment["spec"]["template"]["spec"]["securityContext"] == {"runAsUser": 5556}
    assert OperatorSettings.from_env({"DEFAULT_USER_ID": "abc"}).default_user_id is None
    deployment = by_kind(render(sdep([predictor()])), "Deployment")["iris-main-0-classifier"]
    assert "securityContext" not in deployment["spec"]["template"]["spec"]
