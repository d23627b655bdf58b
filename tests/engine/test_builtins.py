"""Built-in units as the Java engine defined them (in-process, no unit needed)."""

import orjson
import pytest

from seldon_graph.engine import builtins
from seldon_graph.engine.payload import Payload
from seldon_graph.engine.predictor import build_predictor
from seldon_graph.errors import SeldonError


def message(body: dict, tags: dict | None = None) -> Payload:
    return Payload(json_members=orjson.dumps(body)[1:-1], tags=tags or {})


def node(implementation: str, **extra):
    children = [{"name": f"c{i}", "implementation": "SIMPLE_MODEL"} for i in range(2)]
    spec = {"name": "p", "graph": {"name": "n", "implementation": implementation, "children": children, **extra}}
    return build_predictor(spec).root


def test_simple_model_answers_fixed_tensor_and_echoes_str_and_bin_data():
    output, meta = builtins.simple_model(node("SIMPLE_MODEL"), message({"data": {"ndarray": [[1]]}}))
    assert output.decoded()["data"]["tensor"]["values"] == [0.1, 0.9, 0.5]
    assert [m["key"] for m in meta["metrics"]] == ["mymetric_counter", "mymetric_gauge", "mymetric_timer"]
    output, _ = builtins.simple_model(node("SIMPLE_MODEL"), message({"strData": "hi"}))
    assert output.decoded() == {"strData": "hi"}


@pytest.mark.parametrize("ratio, route", [("1.0", 0), ("0.0", 1)])
def test_random_abtest_follows_ratio(ratio, route):
    abtest = node("RANDOM_ABTEST", parameters=[{"name": "ratioA", "value": ratio, "type": "FLOAT"}])
    assert {builtins.random_abtest(abtest, message({})) for _ in range(20)} == {route}


def test_average_combiner_tensors_keep_first_names_and_merge_tags():
    outputs = [
        message({"data": {"names": ["c"], "tensor": {"shape": [1, 2], "values": [1, 1]}}}, {"a": 1}),
        message({"data": {"names": ["x"], "tensor": {"shape": [1, 2], "values": [1, 0.5]}}}, {"a": 2}),
        message({"data": {"names": ["y"], "tensor": {"shape": [1, 2], "values": [2.2, 0.9]}}}),
    ]
    output, _ = builtins.average_combiner(node("AVERAGE_COMBINER"), outputs)
    data = output.decoded()["data"]
    assert data["names"] == ["c"] and data["tensor"]["shape"] == [1, 2]
    assert data["tensor"]["values"] == pytest.approx([(1 + 1 + 2.2) / 3, (1 + 0.5 + 0.9) / 3])
    assert output.tags == {"a": 2}


@pytest.mark.parametrize(
    "outputs, words",
    [
        ([], "no inputs"),
        ([{"strData": "x"}], "no data"),
        ([{"data": {"ndarray": [1, 2]}}], "not 2 dimensional"),
        ([{"data": {"ndarray": [[1, 2]]}}, {"data": {"ndarray": [[1, 2, 3]]}}], "1x2"),
    ],
)
def test_average_combiner_errors_name_the_node(outputs, words):
    with pytest.raises(SeldonError) as caught:
        builtins.average_combiner(node("AVERAGE_COMBINER"), [message(body) for body in outputs])
    assert "'n'" in caught.value.info and words in caught.value.info
