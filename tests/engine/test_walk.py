"""The graph walk end to end: every node type, `methods`, routers, combiners, built-ins and meta merging,
through real engine processes in front of units served by our wrapper."""

import pytest
import requests

from tests.engine.conftest import engines_running, node, predictor, values

pytestmark = pytest.mark.e2e

X = {"data": {"ndarray": [[1, 2]]}}


@pytest.fixture(scope="module")
def engines(units, tmp_path_factory):
    u = units
    specs = {
        "model": predictor(node("doubler", u["doubler"])),
        "chain": predictor(node("doubler", u["doubler"], children=[node("tagger", u["tagger"])])),
        "transformer": predictor(node("addone", u["addone"], "TRANSFORMER", children=[node("doubler", u["doubler"])])),
        "output": predictor(
            node("addone", u["addone"], "OUTPUT_TRANSFORMER", children=[node("doubler", u["doubler"])])
        ),
        "output_leaf": predictor(node("addone", u["addone"], "OUTPUT_TRANSFORMER")),
        "methods": predictor(node("addone", u["addone"], None, methods=["TRANSFORM_INPUT", "TRANSFORM_OUTPUT"])),
        "model_ti": predictor(node("addone", u["addone"], "MODEL", methods=["TRANSFORM_INPUT"])),
        "router": predictor(
            node(
                "router", u["router"], "ROUTER", children=[node("doubler", u["doubler"]), node("tagger", u["tagger"])]
            ),
            componentSpecs=[
                {
                    "spec": {
                        "containers": [
                            {"name": "router", "image": "acme/router:1.2"},
                            {"name": "doubler", "image": "acme/doubler:0.1"},
                        ]
                    }
                }
            ],
        ),
        "combiner": predictor(
            node(
                "difference",
                u["difference"],
                "COMBINER",
                children=[node("sleeper", u["sleeper"]), node("tagger", u["tagger"])],
            )
        ),
        "mixed": predictor(
            node(
                "difference",
                u["difference"],
                "COMBINER",
                transport="GRPC",
                children=[node("doubler", u["doubler"]), node("tagger", u["tagger"], transport="GRPC")],
            )
        ),
        "simple_model": predictor(node("stub", None, implementation="SIMPLE_MODEL")),
        "simple_router": predictor(
            node(
                "pick",
                None,
                "ROUTER",
                implementation="SIMPLE_ROUTER",
                children=[node("doubler", u["doubler"]), node("tagger", u["tagger"])],
            )
        ),
        "abtest": predictor(
            node(
                "ab",
                None,
                None,
                implementation="RANDOM_ABTEST",
                parameters=[{"name": "ratioA", "value": "0.5", "type": "FLOAT"}],
                children=[node("doubler", u["doubler"]), node("tagger", u["tagger"])],
            )
        ),
        "average": predictor(
            node(
                "avg",
                None,
                "COMBINER",
                implementation="AVERAGE_COMBINER",
                children=[node("doubler", u["doubler"]), node("tagger", u["tagger"])],
            )
        ),
    }
    with engines_running(specs, tmp_path_factory.mktemp("walk")) as started:
        yield started


def predict(engine, body=X, **kwargs):
    response = requests.post(f"{engine.url}/api/v1.0/predictions", json=body, timeout=30, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_single_model(engines):
    assert values(predict(engines["model"])) == [[2, 4]]


def test_v01_path_and_form_body(engines):
    response = requests.post(
        f"{engines['model'].url}/api/v0.1/predictions", data={"json": '{"data":{"ndarray":[[3,4]]}}'}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert values(response.json()) == [[6, 8]]


def test_model_with_children_is_a_chain(engines):
    reply = predict(engines["chain"])
    assert values(reply) == [[102, 104]]
    assert reply["meta"]["routing"] == {"doubler": -1}


def test_transformer_feeds_its_child(engines):
    assert values(predict(engines["transformer"])) == [[4, 6]]


def test_output_transformer_post_processes_its_child(engines):
    assert values(predict(engines["output"])) == [[20, 40]]


def test_leaf_output_transformer_still_transforms(engines):
    assert values(predict(engines["output_leaf"])) == [[10, 20]]


def test_untyped_node_runs_its_methods(engines):
    assert values(predict(engines["methods"])) == [[20, 30]]


def test_model_listing_transform_input_calls_transform_input(engines):
    assert values(predict(engines["model_ti"])) == [[2, 3]]


@pytest.mark.parametrize(
    "first, route, expected",
    [
        (0, 0, [[0, 10]]),
        (1, 1, [[101, 105]]),
        (-1, -1, [[-2, 10]]),
        (-2, -2, [[-2, 5]]),
    ],
)
def test_router_routes(engines, first, route, expected):
    reply = predict(engines["router"], {"data": {"ndarray": [[first, 5]]}})
    assert values(reply) == expected
    assert reply["meta"]["routing"] == {"router": route}


def test_router_invalid_route_is_a_500_naming_the_router(engines):
    response = requests.post(
        f"{engines['router'].url}/api/v1.0/predictions", json={"data": {"ndarray": [[7, 5]]}}, timeout=30
    )
    assert response.status_code == 500
    status = response.json()["status"]
    assert status["reason"] == "ENGINE_INVALID_ROUTING"
    assert "router" in status["info"] and "7" in status["info"]


def test_request_path_names_every_visited_node_with_its_image(engines):
    reply = predict(engines["router"], {"data": {"ndarray": [[0, 5]]}})
    assert reply["meta"]["requestPath"] == {"router": "acme/router:1.2", "doubler": "acme/doubler:0.1"}


def test_combiner_gets_children_in_child_order_not_completion_order(engines):
    # child 0 (sleeper) answers 0.3 s after child 1 (tagger); the combiner computes child0 - child1.
    reply = predict(engines["combiner"], {"data": {"ndarray": [[0.3, 1]]}})
    assert values(reply)[0] == pytest.approx([0.6 - 100.3, 2 - 101])


def test_mixed_rest_and_grpc_units(engines):
    assert values(predict(engines["mixed"]))[0] == pytest.approx([2 - 101, 4 - 102])


def test_meta_merging(engines):
    body = {"meta": {"puid": "my-puid", "tags": {"shared": "client", "client": 1}}, "data": {"ndarray": [[1, 2]]}}
    response = requests.post(f"{engines['chain'].url}/api/v1.0/predictions", json=body, timeout=30)
    meta = response.json()["meta"]
    assert meta["puid"] == "my-puid" and response.headers["Seldon-Puid"] == "my-puid"
    assert meta["tags"] == {"shared": "tagger", "client": 1, "tagger": "yes"}
    assert meta["requestPath"] == {"doubler": "", "tagger": ""}
    assert {m["key"] for m in meta["metrics"]} == {"tagger_calls", "tagger_gauge"}


def test_puid_from_header_or_generated(engines):
    response = requests.post(
        f"{engines['model'].url}/api/v1.0/predictions", json=X, headers={"Seldon-Puid": "from-header"}, timeout=30
    )
    assert response.json()["meta"]["puid"] == "from-header"
    generated = requests.post(f"{engines['model'].url}/api/v1.0/predictions", json=X, timeout=30)
    puid = generated.json()["meta"]["puid"]
    assert len(puid) == 36 and generated.headers["Seldon-Puid"] == puid


def test_cloudevents_request_gets_cloudevents_headers_back(engines):
    response = requests.post(
        f"{engines['model'].url}/api/v1.0/predictions", json=X, timeout=30, headers={"Ce-Specversion": "0.3"}
    )
    assert response.headers["Ce-Id"] == response.json()["meta"]["puid"]
    assert response.headers["Ce-Path"] == "/api/v1.0/predictions" and response.headers["Ce-Specversion"] == "0.3"
    assert "Ce-Id" not in requests.post(f"{engines['model'].url}/api/v1.0/predictions", json=X, timeout=30).headers


def test_simple_model(engines):
    reply = predict(engines["simple_model"])
    assert reply["data"]["tensor"]["values"] == [0.1, 0.9, 0.5]
    assert [m["type"] for m in reply["meta"]["metrics"]] == ["COUNTER", "GAUGE", "TIMER"]


def test_simple_router_takes_child_zero(engines):
    reply = predict(engines["simple_router"])
    assert values(reply) == [[2, 4]] and reply["meta"]["routing"] == {"pick": 0}


def test_random_abtest_splits_traffic(engines):
    routes = [predict(engines["abtest"])["meta"]["routing"]["ab"] for _ in range(40)]
    assert set(routes) == {0, 1}


def test_average_combiner(engines):
    assert values(predict(engines["average"])) == [[51.5, 53.0]]


def test_large_request_passes_through(engines):
    values_in = list(range(200_000))
    body = {"data": {"tensor": {"shape": [len(values_in)], "values": values_in}}}
    reply = predict(engines["model"], body)
    assert reply["data"]["tensor"]["values"][-1] == 2 * values_in[-1]


def test_json_query_argument(engines):
    response = requests.post(
        f"{engines['model'].url}/api/v1.0/predictions", params={"json": '{"data":{"ndarray":[[5]]}}'}, timeout=30
    )
    assert response.status_code == 200 and values(response.json()) == [[10]]
