"""Built-in units that run inside the engine, without a network hop, as the Seldon Java engine provided them.

SIMPLE_MODEL (a fixed answer, for smoke tests), SIMPLE_ROUTER (always child 0), RANDOM_ABTEST (child 0 with
probability `ratioA`), AVERAGE_COMBINER (element-wise mean of the children's tensors or ndarrays).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import orjson

from seldon_graph.engine.payload import Payload
from seldon_graph.engine.predictor import Node
from seldon_graph.errors import INTERNAL_ERROR, SeldonError

SIMPLE_MODEL_DATA = {"names": ["class0", "class1", "class2"], "tensor": {"shape": [1, 3], "values": [0.1, 0.9, 0.5]}}
SIMPLE_MODEL_METRICS = [
    {"type": "COUNTER", "key": "mymetric_counter", "value": 1},
    {"type": "GAUGE", "key": "mymetric_gauge", "value": 100},
    {"type": "TIMER", "key": "mymetric_timer", "value": 22.1},
]
_draw = random.Random()


def simple_model(node: Node, message: Payload) -> tuple[Payload, dict]:
    """binData/strData echoed, anything else answered with the fixed three-class tensor; three demo metrics."""
    decoded = message.decoded()
    kept = {key: decoded[key] for key in ("binData", "strData") if key in decoded}
    body = kept or {"data": SIMPLE_MODEL_DATA}
    meta = {"metrics": SIMPLE_MODEL_METRICS}
    return Payload(json_members=orjson.dumps(body)[1:-1], tags=dict(message.tags)), meta


def simple_router(node: Node, message: Payload) -> int:
    return 0


def random_abtest(node: Node, message: Payload) -> int:
    return 0 if _draw.random() < float(node.parameters.get("ratioA", 0.5)) else 1


def average_combiner(node: Node, messages: list[Payload]) -> tuple[Payload, dict]:
    """The element-wise mean of 2-D tensors or ndarrays of equal shape; the first child's names and kind."""
    if not messages:
        raise SeldonError(f"Combiner '{node.name}' received no inputs", 500, INTERNAL_ERROR)
    decoded = [message.decoded() for message in messages]
    matrices = [_matrix(node, body) for body in decoded]
    rows, cols = len(matrices[0]), len(matrices[0][0]) if matrices[0] else 0
    for matrix in matrices:
        if len(matrix) != rows or any(len(row) != cols for row in matrix):
            raise SeldonError(
                f"Combiner '{node.name}': expected every child output to be {rows}x{cols}", 500, INTERNAL_ERROR
            )
    count = len(matrices)
    mean = [[sum(m[r][c] for m in matrices) / count for c in range(cols)] for r in range(rows)]
    first = decoded[0]
    data = dict(first["data"])
    if "tensor" in data:
        data["tensor"] = {"shape": [rows, cols], "values": [value for row in mean for value in row]}
    else:
        data["ndarray"] = mean
    body = {key: value for key, value in first.items() if key != "data"}
    body["data"] = data
    tags: dict = {}
    for message in messages:
        tags.update(message.tags)
    return Payload(json_members=orjson.dumps(body)[1:-1], tags=tags), {}


def _matrix(node: Node, body: dict) -> list[list[float]]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise SeldonError(f"Combiner '{node.name}' cannot extract data shape: no data", 500, INTERNAL_ERROR)
    if "tensor" in data:
        shape, values = data["tensor"].get("shape") or [], data["tensor"].get("values") or []
        if len(shape) != 2:
            raise SeldonError(f"Combiner '{node.name}' received data that is not 2 dimensional", 500, INTERNAL_ERROR)
        return [values[r * shape[1] : (r + 1) * shape[1]] for r in range(shape[0])]
    ndarray = data.get("ndarray")
    if not isinstance(ndarray, list) or not all(isinstance(row, list) for row in ndarray):
        raise SeldonError(f"Combiner '{node.name}' received data that is not 2 dimensional", 500, INTERNAL_ERROR)
    return ndarray


# The walk hands a built-in its graph's messages, of whatever protocol: a protocol lists the built-ins that
# understand them (WireProtocol.builtins), so these take `Any` where they expect SeldonMessages.
Transform = Callable[[Node, Any], tuple[Any, dict]]
Router = Callable[[Node, Any], int]
Aggregator = Callable[[Node, list[Any]], tuple[Any, dict]]

TRANSFORMS: dict[str, Transform] = {"SIMPLE_MODEL": simple_model}
ROUTERS: dict[str, Router] = {"SIMPLE_ROUTER": simple_router, "RANDOM_ABTEST": random_abtest}
AGGREGATORS: dict[str, Aggregator] = {"AVERAGE_COMBINER": average_combiner}
