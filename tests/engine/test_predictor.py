"""Building the runtime graph from a PredictorSpec: defaulting, methods, endpoints, and errors that name the
node and the field."""

import logging

import pytest

from seldon_graph.engine.predictor import PredictorError, build_predictor
from seldon_graph.engine.source import from_file, message_size, read_annotations_file

REST = {"service_host": "h", "httpPort": 9000, "grpcPort": 9500}


def graph(**root):
    return {"name": "p", "graph": {"name": "m", "endpoint": REST, **root}}


def test_defaults_and_methods():
    root = build_predictor(graph()).root
    assert root.type == "MODEL" and root.predict_step == "predict"
    assert root.endpoint.url == "http://h:9000"
    root = build_predictor(graph(type="MODEL", methods=["TRANSFORM_INPUT", "TRANSFORM_OUTPUT"])).root
    assert root.predict_step == "transform-input" and root.does("TRANSFORM_OUTPUT") and root.does("SEND_FEEDBACK")
    root = build_predictor(graph(methods=["ROUTE"])).root
    assert root.type == "UNKNOWN_TYPE" and root.steps == {"ROUTE"}


def test_grpc_endpoint_uses_grpc_port_and_spec_transport_default():
    assert build_predictor(graph(endpoint={**REST, "type": "GRPC"})).root.endpoint.url == "h:9500"
    assert build_predictor(graph(), default_transport="grpc").root.endpoint.port == 9500
    assert build_predictor(graph(endpoint={"service_host": "h", "service_port": 7})).root.endpoint.port == 7


def test_prepackaged_server_is_a_model_and_images_come_from_containers():
    spec = graph(implementation="SKLEARN_SERVER")
    spec["componentSpecs"] = [{"spec": {"containers": [{"name": "m", "image": "img:1"}]}}]
    root = build_predictor(spec).root
    assert root.type == "MODEL" and root.image == "img:1"


@pytest.mark.parametrize(
    "root, words",
    [
        ({"type": "BOGUS"}, ["'m'", ".type", "BOGUS"]),
        ({"methods": ["PREDICT"]}, ["'m'", ".methods", "PREDICT"]),
        ({"endpoint": None}, ["'m'", ".endpoint"]),
        ({"endpoint": {"service_host": "h", "type": "REST"}}, ["'m'", "endpoint.httpPort"]),
        ({"endpoint": {**REST, "type": "KAFKA"}}, ["'m'", "endpoint.type"]),
        ({"parameters": [{"name": "n", "value": "x", "type": "INT"}]}, ["'m'", ".parameters", "n"]),
        ({"logger": {"mode": "sometimes", "url": "http://x"}}, ["'m'", "logger.mode"]),
        ({"children": [{"name": "m", "endpoint": REST}]}, ["graph.children[0]", "duplicate"]),
        ({"children": [{"endpoint": REST}]}, ["graph.children[0].name"]),
        ({"type": None, "methods": []}, ["'m'", "methods"]),
        (
            {"implementation": "RANDOM_ABTEST", "children": [{"name": "a", "endpoint": REST}]},
            ["'m'", "RANDOM_ABTEST", "2 children"],
        ),
        (
            {
                "implementation": "RANDOM_ABTEST",
                "parameters": [{"name": "ratioA", "value": "2", "type": "FLOAT"}],
                "children": [{"name": "a", "endpoint": REST}, {"name": "b", "endpoint": REST}],
            },
            ["ratioA"],
        ),
    ],
)
def test_invalid_graphs_name_node_and_field(root, words):
    spec = graph(**root)
    if root.get("type", "x") is None:
        del spec["graph"]["type"]
    with pytest.raises(PredictorError) as caught:
        build_predictor(spec)
    for word in words:
        assert word in str(caught.value)


def test_shape_errors_come_from_the_sdep_schema_with_their_path():
    with pytest.raises(PredictorError, match="graph: required"):
        build_predictor({"name": "p"})
    with pytest.raises(PredictorError, match="graph.children\\[0\\].endpoint.httpPort: expected integer"):
        build_predictor(graph(children=[{"name": "c", "endpoint": {"httpPort": "x"}}]))
    with pytest.raises(PredictorError, match="graph.tyep: unknown field"):
        build_predictor(graph(tyep="MODEL"))


def test_sdep_file_picks_the_predictor_and_collects_annotations(tmp_path):
    path = tmp_path / "sdep.yaml"
    path.write_text(
        "kind: SeldonDeployment\nmetadata: {name: d, namespace: ns, annotations: {x: '1'}}\n"
        "spec:\n  transport: grpc\n  annotations: {seldon.io/rest-timeout: '100'}\n"
        "  predictors:\n  - {name: a, graph: {name: m}}\n  - {name: b, graph: {name: n}}\n"
    )
    source = from_file(path, "b")
    assert source.predictor["name"] == "b" and source.deployment == "d" and source.namespace == "ns"
    assert source.annotations == {"x": "1", "seldon.io/rest-timeout": "100"} and source.transport == "GRPC"
    with pytest.raises(PredictorError, match="no predictor named 'c'"):
        from_file(path, "c")


def test_annotations_file(tmp_path):
    path = tmp_path / "annotations"
    path.write_text('seldon.io/rest-timeout="100"\nother="a=b"\n\n')
    assert read_annotations_file(path) == {"seldon.io/rest-timeout": "100", "other": "a=b"}
    assert read_annotations_file(tmp_path / "missing") == {}


def test_malformed_annotations_line_is_logged_and_skipped(tmp_path, caplog):
    """The executor logs a bad annotations file and starts anyway (executor/cmd/executor/main.go, "Failed to load
    annotations"; executor/k8s/annotation.go); a malformed line costs only that line here."""
    path = tmp_path / "annotations"
    path.write_text('kubernetes.io/config.seen="x"\nno equals sign here\nseldon.io/rest-timeout="100"\n')
    with caplog.at_level(logging.WARNING, logger="seldon_graph.engine.source"):
        assert read_annotations_file(path) == {"kubernetes.io/config.seen": "x", "seldon.io/rest-timeout": "100"}
    assert "no equals sign here" in caplog.text


def test_message_size_annotation():
    key = "seldon.io/grpc-max-message-size"
    assert message_size({}, key) == -1 and message_size({key: ""}, key) == -1
    assert message_size({key: "4194304"}, key) == 4194304 and message_size({key: 1024}, key) == 1024
    for bad in ("4MB", "--5", " 5"):
        with pytest.raises(PredictorError, match="grpc-max-message-size: expected a number of bytes"):
            message_size({key: bad}, key)
