"""Every validation rule of the original webhook (§3), with messages naming the field path."""

import pytest

from seldon_graph.sdep import PredictorSpec, SdepSettings, parse, parse_predictor, validate, validate_predictor


def pod(*names, image=True):
    return {"spec": {"containers": [{"name": n, **({"image": f"{n}:1"} if image else {})} for n in names]}}


def predictor(name="p1", graph=None, pods=None, **extra):
    return {
        "name": name,
        "componentSpecs": pods if pods is not None else [pod("classifier")],
        "graph": graph if graph is not None else {"name": "classifier", "type": "MODEL"},
        **extra,
    }


def check(predictors, metadata_name="mydep", settings=None, **spec):
    doc = {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": metadata_name},
        "spec": {"predictors": predictors, **spec},
    }
    return validate(parse(doc), settings)


def test_single_model_is_valid():
    assert check([predictor()]) == []


def test_valid_protocol_transport_server_type_and_graph_without_type():
    assert (
        check([predictor(graph={"name": "classifier"})], protocol="tensorflow", transport="grpc", serverType="rpc")
        == []
    )


@pytest.mark.parametrize(
    "field, path, detail",
    [
        ("protocol", "spec.protocol", "Invalid protocol"),
        ("transport", "spec.transport", "Invalid transport"),
        ("serverType", "spec.serverType", "Invalid serverType"),
    ],
)
def test_enum_fields(field, path, detail):
    errors = check([predictor()], **{field: "abc"})
    assert len(errors) == 1
    assert errors[0].startswith(f'{path}: Invalid value: "abc": {detail}')


def test_kafka_needs_the_three_env_vars():
    env = [{"name": "KAFKA_BROKER", "value": "b"}, {"name": "KAFKA_INPUT_TOPIC", "value": "i"}]
    errors = check([predictor(svcOrchSpec={"env": env})], serverType="kafka")
    assert errors == [
        'spec.predictors[0].svcOrchSpec.env: Invalid value: "p1": For kafka please supply svcOrchSpec '
        "envs KAFKA_BROKER, KAFKA_INPUT_TOPIC, KAFKA_OUTPUT_TOPIC"
    ]
    env.append({"name": "KAFKA_OUTPUT_TOPIC", "value": "o"})
    assert check([predictor(svcOrchSpec={"env": env})], serverType="kafka") == []


def test_shadow_cannot_be_the_only_predictor():
    assert check([predictor(shadow=True)]) == [
        'spec.predictors[0].shadow: Invalid value: "p1": Shadow can not exist as only predictor'
    ]


def test_duplicate_svc_name_annotation():
    ann = {"seldon.io/svc-name": "svc1"}
    errors = check([predictor("p1", traffic=50, annotations=ann), predictor("p2", traffic=50, annotations=ann)])
    assert errors == [
        'spec.predictors[1].annotations[seldon.io/svc-name]: Invalid value: "p2": Found duplicate '
        "service name in seldon.io/svc-name with value svc1"
    ]
    assert (
        check(
            [
                predictor("p1", traffic=50, annotations=ann),
                predictor("p2", traffic=50, annotations={"seldon.io/svc-name": "svc2"}),
            ]
        )
        == []
    )


def test_no_predictors():
    assert check([]) == ["spec.predictors: Invalid value: []: Graph contains no predictors"]


def test_no_engine_only_for_single_node_graphs():
    graph = {"name": "classifier", "type": "MODEL", "children": [{"name": "t", "type": "MODEL"}]}
    errors = check([predictor(graph=graph, pods=[pod("classifier", "t")], annotations={"seldon.io/no-engine": "true"})])
    assert errors == [
        'spec.predictors[0].annotations[seldon.io/no-engine]: Invalid value: "p1": Running without '
        "engine only valid for single element graphs"
    ]
    assert (
        check([predictor(graph=graph, pods=[pod("classifier", "t")], annotations={"seldon.io/no-engine": "false"})])
        == []
    )


def test_duplicate_predictor_name():
    errors = check([predictor("p1", traffic=50), predictor("p1", traffic=50)])
    assert errors == ['spec.predictors[1].name: Invalid value: "p1": Duplicate predictor name']


def test_missing_container_for_unit_names_the_graph_path():
    graph = {"name": "classifier", "children": [{"name": "a"}, {"name": "b", "children": [{"name": "missing"}]}]}
    errors = check([predictor(graph=graph, pods=[pod("classifier", "a", "b")])])
    assert errors == [
        'spec.predictors[0].graph.children[1].children[0]: Invalid value: "missing": '
        "Can't find container for Predictive Unit"
    ]


def test_graph_without_name():
    errors = check([predictor(graph={"name": ""})])
    assert errors == ['spec.predictors[0].graph: Invalid value: "": Can\'t find container for Predictive Unit']


def test_unknown_type_needs_methods():
    errors = check([predictor(graph={"name": "classifier", "type": "UNKNOWN_TYPE"})])
    assert errors == [
        'spec.predictors[0].graph: Invalid value: "classifier": Predictive Unit has no implementation '
        "methods defined. Change to a known type or add what methods it defines"
    ]
    assert (
        check([predictor(graph={"name": "classifier", "type": "UNKNOWN_TYPE", "methods": ["TRANSFORM_INPUT"]})]) == []
    )


def test_prepack_needs_model_uri_except_huggingface():
    errors = check([predictor(graph={"name": "classifier", "implementation": "SKLEARN_SERVER"})])
    assert errors == [
        'spec.predictors[0].graph: Invalid value: "classifier": Predictive unit modelUri required when '
        "using standalone servers"
    ]
    assert check([predictor(graph={"name": "classifier", "implementation": "HUGGINGFACE_SERVER"})]) == []


@pytest.mark.parametrize(
    "implementation, ok",
    [("SKLEARN_SERVER", False), ("XGBOOST_SERVER", False), ("MLFLOW_SERVER", False), ("TENSORFLOW_SERVER", True)],
)
def test_tensorflow_protocol_prepack(implementation, ok):
    graph = {"name": "classifier", "implementation": implementation, "modelUri": "gs://m"}
    errors = check([predictor(graph=graph, pods=[])], protocol="tensorflow")
    expected = (
        []
        if ok
        else [
            f'spec.predictors[0].graph: Invalid value: "classifier": Prepackaged server does not '
            f"handle tensorflow protocol {implementation}"
        ]
    )
    assert errors == expected


@pytest.mark.parametrize("protocol", ["kfserving", "v2", "tensorflow"])
def test_tensorflow_server_accepts_other_protocols(protocol):
    graph = {"name": "classifier", "implementation": "TENSORFLOW_SERVER", "modelUri": "gs://m"}
    assert check([predictor(graph=graph, pods=[])], protocol=protocol) == []


def test_unknown_prepack_server_needs_a_config_entry_or_an_image():
    graph = {"name": "classifier", "implementation": "CUSTOM_SERVER", "modelUri": "gs://m"}
    assert check([predictor(graph=graph, pods=[pod("classifier", image=False)])]) == [
        'spec.predictors[0].graph: Invalid value: "classifier": No entry in predictors map for CUSTOM_SERVER'
    ]
    assert check([predictor(graph=graph)]) == []
    settings = SdepSettings(predictor_servers={"CUSTOM_SERVER": {"protocols": {"seldon": {"image": "c"}}}})
    assert check([predictor(graph=graph, pods=[])], settings=settings) == []


def test_logger_needs_a_mode():
    graph = {"name": "classifier", "logger": {"url": "http://log"}}
    assert check([predictor(graph=graph)]) == [
        'spec.predictors[0].graph.logger.mode: Invalid value: "": No logger mode specified (use all, request or '
        "response)"
    ]


def test_multiple_endpoint_types():
    graph = {
        "name": "classifier",
        "endpoint": {"type": "GRPC"},
        "children": [{"name": "t", "endpoint": {"type": "REST"}}],
    }
    errors = check([predictor(graph=graph, pods=[pod("classifier", "t")])], transport="rest")
    assert errors == [
        'spec: Invalid value: "": Multiple endpoint.types found - can only have 1 type in graph. '
        "Please use spec.transport"
    ]


def test_endpoint_type_disagreeing_with_transport():
    errors = check([predictor(graph={"name": "classifier", "endpoint": {"type": "GRPC"}})], transport="rest")
    assert errors == [
        'spec.transport: Invalid value: "rest": Mixed transport types found. Remove graph '
        "endpoint.types if transport set at deployment level"
    ]
    assert check([predictor(graph={"name": "classifier", "endpoint": {"type": "GRPC"}})], transport="grpc") == []


def test_two_shadows_not_allowed():
    errors = check([predictor("a", traffic=100), predictor("b", shadow=True), predictor("c", shadow=True)])
    assert errors == ['spec.predictors[2].shadow: Invalid value: "c": Multiple shadows are not allowed']


def test_shadow_traffic_range():
    errors = check([predictor("a", traffic=100), predictor("b", shadow=True, traffic=101)])
    assert errors == [
        "spec.predictors[1].traffic: Invalid value: 101: shadow traffic is illegal, the traffic "
        "number should be between [0, 100]"
    ]


def test_traffic_must_sum_to_100_for_several_predictors():
    assert check([predictor("a"), predictor("b")]) == [
        "spec.predictors: Invalid value: 0: Traffic must sum to 100 for multiple predictors"
    ]
    assert check([predictor("a", traffic=75), predictor("b", traffic=25)]) == []
    assert check([predictor("a", traffic=50), predictor("b", traffic=100, shadow=True)]) == [
        "spec.predictors: Invalid value: 50: Traffic must be 100 for a single predictor when set"
    ]


def test_single_predictor_traffic():
    assert check([predictor(traffic=50)]) == [
        "spec.predictors: Invalid value: 50: Traffic must be 100 for a single predictor when set"
    ]
    assert check([predictor(traffic=150)]) == []
    assert check([predictor("a"), predictor("s", shadow=True, traffic=100)]) == []


def test_names_kubernetes_would_reject():
    assert check([predictor("Main")]) == [
        "spec.predictors[0].name: Invalid value: \"Main\": must be a lowercase RFC 1123 label (a-z, 0-9, '-'): it is "
        "part of object names"
    ]
    assert check([predictor()], metadata_name="1iris")[0].startswith('metadata.name: Invalid value: "1iris-p1"')
    assert check([predictor(pods=[pod("Classifier")], graph={"name": "Classifier"})]) == [
        'spec.predictors[0].componentSpecs[0].spec.containers[0].name: Invalid value: "Classifier": must be a '
        "lowercase RFC 1123 label"
    ]
    long_name = "seldon-model-" + "-".join(["1234567890"] * 5)
    assert check([predictor()], metadata_name=long_name) == []


def test_all_rules_accumulate_in_order():
    errors = check([predictor("a", traffic=10), predictor("a", traffic=10, graph={"name": "x"})], protocol="p")
    assert [e.split(":")[0] for e in errors] == [
        "spec.protocol",
        "spec.predictors[1].name",
        "spec.predictors[1].graph",
        "spec.predictors",
    ]


def test_validate_predictor_for_the_engine():
    lone = parse_predictor(
        {"name": "p", "graph": {"name": "a", "children": [{"name": "b"}]}, "componentSpecs": [pod("a")]}
    )
    assert isinstance(lone, PredictorSpec)
    assert validate_predictor(lone) == [
        'predictor.graph.children[0]: Invalid value: "b": Can\'t find container for Predictive Unit'
    ]
    sklearn = parse_predictor(
        {"name": "p", "graph": {"name": "a", "implementation": "SKLEARN_SERVER", "modelUri": "m"}}
    )
    assert validate_predictor(sklearn, protocol="tensorflow") == [
        'predictor.graph: Invalid value: "a": Prepackaged server does not handle tensorflow protocol SKLEARN_SERVER'
    ]


def test_metadata_name_is_required():
    doc = {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {},
        "spec": {"predictors": [predictor()]},
    }
    assert validate(parse(doc)) == ["metadata.name: Required value: every object name is derived from it"]
    assert validate(parse({**doc, "metadata": {"name": "Iris"}}))[0].startswith('metadata.name: Invalid value: "Iris"')
