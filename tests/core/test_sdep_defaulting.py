"""Defaulting as the original operator: SDep-global ports by container name, hosts, labels, node types, prepack."""

import pytest

from seldon_graph.sdep import SdepSettings, default, parse


def sdep(predictors, name="mydep", namespace=None, **spec):
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return parse(
        {
            "apiVersion": "machinelearning.seldon.io/v1",
            "kind": "SeldonDeployment",
            "metadata": metadata,
            "spec": {"predictors": predictors, **spec},
        }
    )


def pod(*names, **container_extra):
    return {"spec": {"containers": [{"name": n, "image": f"{n}:1", **container_extra} for n in names]}}


def endpoints(sd):
    return {(p.name, u.name): u.endpoint.to_dict() for p in sd.predictors for u in p.units()}


def ports(container):
    return {p["name"]: p["containerPort"] for p in container.get("ports", [])}


def test_port_allocation_example_of_the_spec():
    """§2.3: counters are global to the SDep, http/grpc shared by container name, metrics per instance."""
    defaulted = default(
        sdep(
            [
                {
                    "name": "p1",
                    "traffic": 50,
                    "componentSpecs": [pod("classifier", "transformer")],
                    "graph": {
                        "name": "transformer",
                        "type": "TRANSFORMER",
                        "children": [{"name": "classifier", "type": "MODEL"}],
                    },
                },
                {
                    "name": "p2",
                    "traffic": 50,
                    "componentSpecs": [pod("classifier"), pod("combiner")],
                    "graph": {
                        "name": "combiner",
                        "type": "COMBINER",
                        "children": [{"name": "classifier", "type": "MODEL"}],
                    },
                },
            ],
            namespace="ns",
        )
    )
    got = endpoints(defaulted)
    assert got[("p1", "classifier")] == {
        "service_host": "localhost",
        "service_port": 9000,
        "httpPort": 9000,
        "grpcPort": 9500,
    }
    assert got[("p1", "transformer")] == {
        "service_host": "localhost",
        "service_port": 9001,
        "httpPort": 9001,
        "grpcPort": 9501,
    }
    assert got[("p2", "classifier")] == {
        "service_host": "localhost",
        "service_port": 9000,
        "httpPort": 9000,
        "grpcPort": 9500,
    }
    assert got[("p2", "combiner")] == {
        "service_host": "mydep-p2-combiner.ns.svc.cluster.local",
        "service_port": 9002,
        "httpPort": 9002,
        "grpcPort": 9502,
    }
    metrics = [ports(c)["metrics"] for p in defaulted.predictors for cs in p.component_specs for c in cs.containers]
    assert metrics == [6000, 6001, 6002, 6003]


def test_single_container_defaults():
    defaulted = default(sdep([{"name": "p1", "componentSpecs": [pod("classifier")], "graph": {"name": "classifier"}}]))
    container = defaulted.predictors[0].component_specs[0].containers[0]
    assert defaulted.namespace == "default"
    assert container["ports"] == [{"name": "metrics", "containerPort": 6000, "protocol": "TCP"}]
    assert container["volumeMounts"] == [{"name": "seldon-podinfo", "mountPath": "/etc/podinfo"}]
    assert (
        container["imagePullPolicy"],
        container["terminationMessagePath"],
        container["terminationMessagePolicy"],
    ) == ("IfNotPresent", "/dev/termination-log", "File")
    unit = defaulted.predictors[0].graph
    assert (unit.type, unit.implementation) == ("MODEL", "UNKNOWN_IMPLEMENTATION")
    assert unit.endpoint.service_port == 9000 and unit.endpoint.service_host == "localhost"
    assert defaulted.predictors[0].labels == {"version": "p1"}


def test_input_is_not_changed_and_defaulting_is_idempotent():
    raw = sdep([{"name": "p1", "componentSpecs": [pod("classifier")], "graph": {"name": "classifier"}}])
    before = raw.to_dict()
    once = default(raw)
    assert raw.to_dict() == before
    assert default(once).to_dict() == once.to_dict()


def test_existing_ports_win_and_legacy_podinfo_mount_is_replaced():
    container = {
        "name": "classifier",
        "image": "x",
        "ports": [{"name": "metrics", "containerPort": 1234}, {"name": "http", "containerPort": 5678}],
        "volumeMounts": [{"name": "podinfo", "mountPath": "/etc/podinfo"}],
    }
    defaulted = default(
        sdep(
            [{"name": "p1", "componentSpecs": [{"spec": {"containers": [container]}}], "graph": {"name": "classifier"}}]
        )
    )
    out = defaulted.predictors[0].component_specs[0].containers[0]
    assert ports(out) == {"metrics": 1234, "http": 5678}
    assert out["volumeMounts"] == [{"name": "seldon-podinfo", "mountPath": "/etc/podinfo"}]
    assert defaulted.predictors[0].graph.endpoint.service_port == 5678


def test_existing_version_label_is_kept():
    defaulted = default(
        sdep(
            [
                {
                    "name": "p1",
                    "labels": {"version": "v7", "team": "a"},
                    "componentSpecs": [pod("c")],
                    "graph": {"name": "c"},
                }
            ]
        )
    )
    assert defaulted.predictors[0].labels == {"version": "v7", "team": "a"}


@pytest.mark.parametrize(
    "spec, endpoint, expected",
    [
        ({"transport": "grpc"}, None, 9500),
        ({}, {"type": "GRPC"}, 9500),
        ({}, {"type": "REST"}, 9000),
    ],
)
def test_service_port_follows_transport(spec, endpoint, expected):
    graph = {"name": "c", **({"endpoint": endpoint} if endpoint else {})}
    defaulted = default(sdep([{"name": "p1", "componentSpecs": [pod("c")], "graph": graph}], **spec))
    assert defaulted.predictors[0].graph.endpoint.service_port == expected
    assert defaulted.predictors[0].graph.endpoint.type == (endpoint or {}).get("type")


def test_separate_engine_pod_gives_every_unit_its_service_host():
    defaulted = default(
        sdep(
            [{"name": "p1", "componentSpecs": [pod("c")], "graph": {"name": "c"}}],
            annotations={"seldon.io/engine-separate-pod": "True"},
        )
    )
    assert defaulted.predictors[0].graph.endpoint.service_host == "mydep-p1-c.default.svc.cluster.local"


def test_ports_from_settings_and_env():
    settings = SdepSettings.from_env(
        {
            "PREDICTIVE_UNIT_HTTP_SERVICE_PORT": "9700",
            "PREDICTIVE_UNIT_GRPC_SERVICE_PORT": "9800",
            "PREDICTIVE_UNIT_METRICS_SERVICE_PORT": "bad",
        }
    )
    defaulted = default(
        sdep([{"name": "p1", "componentSpecs": [pod("a", "b")], "graph": {"name": "a", "children": [{"name": "b"}]}}]),
        settings,
    )
    got = endpoints(defaulted)
    assert (got[("p1", "a")]["httpPort"], got[("p1", "a")]["grpcPort"]) == (9700, 9800)
    assert (got[("p1", "b")]["httpPort"], got[("p1", "b")]["grpcPort"]) == (9701, 9801)
    assert ports(defaulted.predictors[0].component_specs[0].containers[0])["metrics"] == 6000


def test_non_graph_containers_take_ports_but_get_no_defaults():
    defaulted = default(sdep([{"name": "p1", "componentSpecs": [pod("sidecar", "c")], "graph": {"name": "c"}}]))
    sidecar, model = defaulted.predictors[0].component_specs[0].containers
    assert "ports" not in sidecar and "imagePullPolicy" not in sidecar
    assert defaulted.predictors[0].graph.endpoint.http_port == 9001


def test_node_type_defaults():
    defaulted = default(
        sdep(
            [
                {
                    "name": "p1",
                    "componentSpecs": [pod("a", "b")],
                    "graph": {
                        "name": "ab",
                        "implementation": "RANDOM_ABTEST",
                        "children": [{"name": "a"}, {"name": "b", "methods": ["TRANSFORM_INPUT"]}],
                    },
                }
            ]
        )
    )
    root, a, b = defaulted.predictors[0].units()
    assert (root.type, root.implementation) == (None, "RANDOM_ABTEST")
    assert (a.type, a.implementation) == ("MODEL", "UNKNOWN_IMPLEMENTATION")
    assert (b.type, b.implementation) == (None, "UNKNOWN_IMPLEMENTATION")


def test_prepack_without_component_specs_gets_a_server_container():
    defaulted = default(
        sdep(
            [
                {
                    "name": "p1",
                    "graph": {
                        "name": "classifier",
                        "implementation": "SKLEARN_SERVER",
                        "modelUri": "gs://m",
                        "endpoint": {"type": "REST"},
                        "children": [{"name": "tf", "implementation": "TENSORFLOW_SERVER", "modelUri": "gs://t"}],
                    },
                }
            ]
        )
    )
    predictor = defaulted.predictors[0]
    containers = predictor.component_specs[0].containers
    assert [c["name"] for c in containers] == ["classifier", "tf"]
    assert containers[0]["image"] == "seldonio/sklearnserver:1.18.2"
    assert containers[1]["image"] == "seldonio/tfserving-proxy:1.18.2"
    assert [ports(c)["metrics"] for c in containers] == [6000, 6001]
    root, child = predictor.units()
    assert root.type == "MODEL" and root.endpoint.type == "REST"
    assert (root.endpoint.service_port, child.endpoint.service_port) == (9000, 9001)
    assert child.endpoint.service_host == "localhost"


def test_prepack_keeps_user_image_and_respects_protocol():
    defaulted = default(
        sdep(
            [
                {
                    "name": "p1",
                    "componentSpecs": [pod("classifier")],
                    "graph": {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "gs://m"},
                }
            ]
        )
    )
    assert defaulted.predictors[0].component_specs[0].containers[0]["image"] == "classifier:1"
    v2 = default(
        sdep(
            [{"name": "p1", "graph": {"name": "c", "implementation": "SKLEARN_SERVER", "modelUri": "m"}}],
            protocol="kfserving",
        )
    )
    assert v2.predictors[0].component_specs[0].containers[0]["image"] == "seldonio/mlserver:1.3.5-sklearn"
    tf = default(
        sdep(
            [{"name": "p1", "graph": {"name": "c", "implementation": "TENSORFLOW_SERVER", "modelUri": "m"}}],
            protocol="tensorflow",
        )
    )
    assert "image" not in tf.predictors[0].component_specs[0].containers[0]


def test_custom_prepack_server_and_metrics_port_name_from_settings():
    settings = SdepSettings.from_env(
        {
            "PREDICTOR_SERVERS": '{"CUSTOM_SERVER": {"protocols": {"seldon": {"image": "custom", "defaultImageVersion": "0.1"}}}}',
            "PREDICTIVE_UNIT_METRICS_PORT_NAME": "myMetricsPort",
            "RELATED_IMAGE_SKLEARNSERVER": "mine/sk:9",
        }
    )
    defaulted = default(
        sdep(
            [{"name": "p1", "graph": {"name": "c", "implementation": "CUSTOM_SERVER", "modelUri": "m"}}],
            transport="grpc",
        ),
        settings,
    )
    container = defaulted.predictors[0].component_specs[0].containers[0]
    assert container["image"] == "custom:0.1"
    assert ports(container) == {"myMetricsPort": 6000}
    assert defaulted.predictors[0].graph.endpoint.service_port == 9500
    assert settings.predictor_servers["SKLEARN_SERVER"]["protocols"]["seldon"] == {"image": "mine/sk:9"}


def test_bad_predictor_servers_json_is_a_clear_error():
    with pytest.raises(ValueError, match="PREDICTOR_SERVERS is not valid JSON"):
        SdepSettings.from_env({"PREDICTOR_SERVERS": "{"})


def test_two_prepack_units_in_two_pods():
    """TestValidateTwoPrepackTwoPods: TF root in pod 0, TF child (no image) in pod 1."""
    graph = {
        "name": "classifier",
        "implementation": "TENSORFLOW_SERVER",
        "modelUri": "gs://a",
        "children": [{"name": "classifier2", "implementation": "TENSORFLOW_SERVER", "modelUri": "gs://b"}],
    }
    raw = sdep(
        [
            {
                "name": "p1",
                "graph": graph,
                "componentSpecs": [
                    {"spec": {"containers": [{"name": "classifier"}]}},
                    {"spec": {"containers": [{"name": "classifier2"}]}},
                ],
            }
        ]
    )
    defaulted = default(raw)
    root, child = defaulted.predictors[0].units()
    assert root.endpoint.service_host == "localhost"
    assert child.endpoint.service_host == "mydep-p1-classifier2.default.svc.cluster.local"
    images = [c["image"] for cs in defaulted.predictors[0].component_specs for c in cs.containers]
    assert images == ["seldonio/tfserving-proxy:1.18.2"] * 2
    assert default(defaulted).to_dict() == defaulted.to_dict()


def test_graph_without_component_specs_or_prepack_is_left_alone():
    defaulted = default(sdep([{"name": "p1", "graph": {"name": "c", "implementation": "SIMPLE_MODEL"}}]))
    assert defaulted.predictors[0].component_specs is None
    assert defaulted.predictors[0].graph.endpoint is None


def test_separate_engine_pod_annotation_also_read_from_metadata():
    raw = sdep([{"name": "p1", "componentSpecs": [pod("c")], "graph": {"name": "c"}}])
    raw.metadata["annotations"] = {"seldon.io/engine-separate-pod": "true"}
    assert default(raw).predictors[0].graph.endpoint.service_host == "mydep-p1-c.default.svc.cluster.local"


def test_operator_style_settings_are_accepted():
    class Holder:
        sdep = SdepSettings(http_port=7000)

    defaulted = default(sdep([{"name": "p1", "componentSpecs": [pod("c")], "graph": {"name": "c"}}]), Holder())
    assert defaulted.predictors[0].graph.endpoint.http_port == 7000
