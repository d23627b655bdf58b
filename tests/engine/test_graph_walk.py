"""The graph walk in process: a predictor's nodes driven against a pool of fake units (no processes, no sockets).

Each fake unit answers a step with a pure function of the decoded request and records what it was asked, so the
order of steps, the messages between nodes, the response meta and the errors are checked exactly and fast. The
same walk against real unit processes is covered by test_walk.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
import pytest

from seldon_graph.engine.graph import Graph
from seldon_graph.engine.payload import FeedbackBody, Payload
from seldon_graph.engine.predictor import Node, Predictor, build_predictor
from seldon_graph.engine.request_state import RequestState
from seldon_graph.engine.unit_errors import UnitError, failed_node, from_rest_reply, unreachable
from seldon_graph.errors import ENGINE_INVALID_ROUTING, ENGINE_UNAVAILABLE, SeldonError

Answer = Callable[[str, dict], dict | bytes]  # a reply as a document, or as raw bytes


def values(message: dict) -> list[float]:
    return message["data"]["ndarray"][0]


def reply(numbers: list[float], **meta) -> dict:
    return {"data": {"names": [], "ndarray": [numbers]}, **({"meta": meta} if meta else {})}


def scale(factor: float) -> Answer:
    return lambda step, message: reply([v * factor for v in values(message)])


def add(amount: float) -> Answer:
    return lambda step, message: reply([v + amount for v in values(message)])


def route(choice: int) -> Answer:
    return lambda step, message: {"data": {"ndarray": [[choice]]}, "meta": {"tags": {"routed": choice}}}


def sum_children(step: str, message: dict) -> dict:
    children = [values(child) for child in message["seldonMessages"]]
    return reply([sum(column) for column in zip(*children)])


def tag(step: str, message: dict) -> dict:
    metric = {"key": "tagged", "type": "COUNTER", "value": 1}
    return reply(values(message), tags={"seen": True}, metrics=[metric])


def fail_bad_data(step: str, message: dict) -> dict:
    raise ValueError("the model refused the input")


class FakeUnit:
    """One unit: answers every step with `answer`, records (step, decoded request) in `calls`."""

    wire = "json"

    def __init__(self, node: str, answer: Answer):
        self.node = node
        self.url = f"http://fake/{node}"
        self.answer = answer
        self.calls: list[tuple[str, dict]] = []

    async def call(self, step: str, body: bytes, context: RequestState) -> bytes:
        message = orjson.loads(body)
        self.calls.append((step, message))
        try:
            answer = self.answer(step, message)
        except ValueError as exc:
            status = {"status": {"code": -1, "info": str(exc), "reason": "MICROSERVICE_BAD_DATA", "status": 1}}
            raise from_rest_reply(self.node, step, 400, orjson.dumps(status)) from exc
        return answer if isinstance(answer, bytes) else orjson.dumps(answer)

    def labels(self, step: str) -> tuple[str, str]:
        return f"/{step}", "post"

    async def metadata(self) -> bytes:
        return orjson.dumps({"name": self.node, "inputs": [{"name": f"{self.node}-in"}], "outputs": []})

    async def status(self) -> bytes:
        return b'{"strData":"healthy"}'


class DownUnit(FakeUnit):
    """A unit nobody answers for: every call fails as an unreachable endpoint does."""

    async def call(self, step: str, body: bytes, context: RequestState) -> bytes:
        raise unreachable(self.node, self.url, "connection refused")


class FakePool:
    """The unit pool of a predictor, made of fake units keyed by node name."""

    def __init__(self, units: dict[str, FakeUnit]):
        self.units = units

    def __getitem__(self, node: Node) -> FakeUnit:
        return self.units[node.name]

    def steps(self, name: str) -> list[str]:
        return [step for step, _ in self.units[name].calls]


def unit(name: str, node_type: str | None = "MODEL", children: list | None = None, **fields) -> dict:
    spec = {"name": name, "endpoint": {"service_host": "fake", "httpPort": 9000}, **fields}
    if node_type is not None:
        spec["type"] = node_type
    if children:
        spec["children"] = children
    return spec


def graph_of(root: dict, answers: dict[str, Answer], **predictor_fields) -> tuple[Graph, FakePool]:
    predictor = build_predictor({"name": "p", "graph": root, **predictor_fields})
    pool = FakePool(
        {
            node.name: (DownUnit if answers[node.name] is None else FakeUnit)(node.name, answers[node.name])
            for node in predictor.nodes()
            if not node.builtin
        }
    )
    return Graph(predictor, pool), pool


def predict(graph: Graph, numbers: list[float], meta: dict | None = None) -> tuple[dict, dict]:
    message, _ = Payload.from_json(orjson.dumps({"data": {"ndarray": [numbers]}}))
    output, response_meta = asyncio.run(graph.predict(message, meta or {}, RequestState("puid-1")))
    return output.decoded(), response_meta


def test_a_model_is_asked_to_predict():
    graph, pool = graph_of(unit("m"), {"m": scale(2)})
    output, meta = predict(graph, [1, 2])
    assert values(output) == [2, 4] and pool.steps("m") == ["predict"]
    assert pool.units["m"].calls[0][1]["meta"] == {"puid": "puid-1"}
    assert meta == {"puid": "puid-1", "requestPath": {"m": ""}}


def test_a_chain_feeds_each_output_to_the_child_and_leaves_output_transformers_for_the_way_back():
    root = unit(
        "t",
        "TRANSFORMER",
        [unit("m", "MODEL", [unit("out", "OUTPUT_TRANSFORMER")])],
    )
    graph, pool = graph_of(root, {"t": add(1), "m": scale(2), "out": scale(10)})
    output, _ = predict(graph, [1, 2])
    assert values(output) == [40, 60]
    assert pool.steps("t") == ["transform-input"] and pool.steps("m") == ["predict"]
    assert pool.steps("out") == ["transform-output"]
    assert values(pool.units["out"].calls[0][1]) == [4, 6]


def test_an_output_transformer_above_a_model_transforms_its_result():
    graph, pool = graph_of(unit("out", "OUTPUT_TRANSFORMER", [unit("m")]), {"out": add(100), "m": scale(3)})
    output, _ = predict(graph, [1])
    assert values(output) == [103] and pool.steps("out") == ["transform-output"]


def test_methods_of_an_untyped_node_and_of_a_model_choose_its_calls():
    graph, pool = graph_of(unit("u", None, methods=["TRANSFORM_INPUT", "TRANSFORM_OUTPUT"]), {"u": add(1)})
    assert values(predict(graph, [1])[0]) == [3] and pool.steps("u") == ["transform-input", "transform-output"]
    graph, pool = graph_of(unit("m", "MODEL", methods=["TRANSFORM_INPUT"]), {"m": add(1)})
    assert values(predict(graph, [1])[0]) == [2] and pool.steps("m") == ["transform-input"]


@pytest.mark.parametrize("choice, expected", [(0, [2, 4]), (1, [11, 12])])
def test_a_router_sends_the_message_to_one_child_and_records_the_route(choice, expected):
    root = unit("r", "ROUTER", [unit("a"), unit("b")])
    graph, pool = graph_of(root, {"r": route(choice), "a": scale(2), "b": add(10)})
    output, meta = predict(graph, [1, 2])
    assert values(output) == expected
    assert meta["routing"] == {"r": choice}
    assert meta["requestPath"] == {"r": "", ["a", "b"][choice]: ""}
    assert pool.steps("r") == ["route"] and pool.steps(["b", "a"][choice]) == []


def test_a_router_route_of_minus_two_skips_the_children():
    graph, pool = graph_of(unit("r", "ROUTER", [unit("a")]), {"r": route(-2), "a": scale(2)})
    output, meta = predict(graph, [5])
    assert values(output) == [5] and meta["routing"] == {"r": -2} and pool.steps("a") == []


def test_a_combiner_aggregates_every_child_in_child_order():
    root = unit("c", "COMBINER", [unit("a"), unit("b", "MODEL", [unit("b2", "TRANSFORMER")])])
    graph, pool = graph_of(root, {"c": sum_children, "a": scale(2), "b": scale(10), "b2": add(1)})
    output, meta = predict(graph, [1, 2])
    assert values(output) == [2 + 11, 4 + 21]
    sent = pool.units["c"].calls[0][1]["seldonMessages"]
    assert [values(message) for message in sent] == [[2, 4], [11, 21]]
    assert meta["routing"] == {"c": -1, "b": -1}
    assert set(meta["requestPath"]) == {"c", "a", "b", "b2"}


def test_meta_from_units_is_merged_into_the_response():
    root = unit("r", "ROUTER", [unit("t")])
    graph, _ = graph_of(root, {"r": route(0), "t": tag}, componentSpecs=[_images(r="acme/router:1", t="acme/t:2")])
    output, meta = predict(graph, [1], {"metrics": [{"key": "client", "type": "GAUGE", "value": 2}]})
    assert meta["tags"] == {"seen": True}
    assert meta["requestPath"] == {"r": "acme/router:1", "t": "acme/t:2"}
    assert [m["key"] for m in meta["metrics"]] == ["client", "tagged"]


def _images(**images: str) -> dict:
    return {"spec": {"containers": [{"name": name, "image": image} for name, image in images.items()]}}


def test_builtin_nodes_need_no_unit():
    root = {
        "name": "ab",
        "implementation": "RANDOM_ABTEST",
        "parameters": [{"name": "ratioA", "value": "1.0", "type": "FLOAT"}],
        "children": [unit("a"), {"name": "stub", "implementation": "SIMPLE_MODEL"}],
    }
    graph, pool = graph_of(root, {"a": scale(2)})
    output, meta = predict(graph, [3])
    assert values(output) == [6] and meta["routing"] == {"ab": 0} and list(pool.units) == ["a"]


@pytest.mark.parametrize("choice", [2, -3])
def test_a_route_out_of_range_is_a_500_naming_the_router(choice):
    graph, _ = graph_of(unit("r", "ROUTER", [unit("a"), unit("b")]), {"r": route(choice), "a": add(0), "b": add(0)})
    with pytest.raises(SeldonError) as caught:
        predict(graph, [1])
    assert caught.value.status_code == 500 and caught.value.reason == ENGINE_INVALID_ROUTING
    assert "Router 'r'" in caught.value.info and failed_node(caught.value) == "r" and str(choice) in caught.value.info


def test_an_unreadable_route_names_the_router():
    graph, _ = graph_of(
        unit("r", "ROUTER", [unit("a")]), {"r": lambda step, m: {"data": {"ndarray": [["x"]]}}, "a": add(0)}
    )
    with pytest.raises(SeldonError, match="Router 'r' gave an invalid route"):
        predict(graph, [1])


def test_a_unit_error_keeps_its_status_and_body_and_names_the_node():
    """The unit's reply is kept byte for byte for REST clients (the Seldon executor passes it on,
    executor/api/rest/server.go respondWithError); the node is carried beside it, and named in the engine's text
    for clients of another transport."""
    root = unit("t", "TRANSFORMER", [unit("bad")])
    graph, pool = graph_of(root, {"t": add(1), "bad": fail_bad_data})
    with pytest.raises(UnitError) as caught:
        predict(graph, [1])
    assert caught.value.status_code == 400 and caught.value.reason == "MICROSERVICE_BAD_DATA"
    assert caught.value.node == "bad" and orjson.loads(caught.value.reply)["status"]["info"] == (
        "the model refused the input"
    )
    assert caught.value.info == "Unit 'bad' failed predict: the model refused the input"
    assert pool.steps("t") == ["transform-input"]


def test_an_unreachable_unit_is_a_503_naming_the_node():
    graph, _ = graph_of(
        unit("c", "COMBINER", [unit("a"), unit("down")]), {"c": sum_children, "a": add(0), "down": None}
    )
    with pytest.raises(SeldonError) as caught:
        predict(graph, [1])
    assert caught.value.status_code == 503 and caught.value.reason == ENGINE_UNAVAILABLE
    assert "Unit 'down' at http://fake/down is unreachable" in caught.value.info


def test_a_reply_that_is_not_a_seldon_message_names_the_node():
    graph, _ = graph_of(unit("m"), {"m": lambda step, message: b'{"data": [1, '})
    with pytest.raises(SeldonError, match="Unit 'm' sent an unreadable reply"):
        predict(graph, [1])


def test_feedback_follows_the_recorded_routing_to_the_units_that_take_it():
    root = unit("r", "ROUTER", [unit("a"), unit("b")])
    graph, pool = graph_of(root, {"r": lambda step, m: {}, "a": lambda step, m: {}, "b": lambda step, m: {}})
    feedback = {"request": {}, "response": {"meta": {"routing": {"r": 1}}}, "reward": 1.0}
    asyncio.run(graph.feedback(FeedbackBody(feedback), RequestState("puid-2")))
    assert pool.steps("r") == ["send-feedback"] and pool.steps("b") == ["send-feedback"] and pool.steps("a") == []


def test_graph_metadata_asks_every_node_and_takes_the_edges_of_the_first_child():
    graph, _ = graph_of(unit("t", "TRANSFORMER", [unit("m")]), {"t": add(0), "m": add(0)})
    metadata = asyncio.run(graph.graph_metadata())
    assert sorted(metadata["models"]) == ["m", "t"] and metadata["graphinputs"] == [{"name": "t-in"}]
    with pytest.raises(SeldonError, match="No node named 'x' in predictor 'p'") as caught:
        asyncio.run(graph.node_metadata("x"))
    assert caught.value.status_code == 404


def test_predictor_is_the_served_tree():
    predictor: Predictor = graph_of(unit("m"), {"m": add(0)})[0].predictor
    assert [node.name for node in predictor.nodes()] == ["m"] and predictor.find("m").endpoint.url == "http://fake:9000"
