"""The engine in front of the real seldon-core 1.18.2 wrapper as graph nodes, over REST and gRPC, unchanged."""

import pytest
import requests

from tests.engine.conftest import engines_running, node, predictor, values

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def engines(seldon_core_units, tmp_path_factory):
    u = seldon_core_units
    specs = {
        "router": predictor(
            node(
                "router",
                u["router"],
                "ROUTER",
                children=[
                    node(
                        "addone", u["addone"], "TRANSFORMER", transport="GRPC", children=[node("doubler", u["doubler"])]
                    ),
                    node("tagger", u["tagger"]),
                ],
            )
        ),
        "combiner": predictor(
            node(
                "difference",
                u["difference"],
                "COMBINER",
                transport="GRPC",
                children=[node("doubler", u["doubler"]), node("tagger", u["tagger"], transport="GRPC")],
            )
        ),
        "failing": predictor(node("bad", u["failing"])),
    }
    with engines_running(specs, tmp_path_factory.mktemp("seldon-core")) as started:
        yield started


def post(engine, body):
    return requests.post(f"{engine.url}/api/v1.0/predictions", json=body, timeout=30)


def test_router_transformer_and_model_mixed_transports(engines):
    reply = post(engines["router"], {"data": {"ndarray": [[0, 5]]}}).json()
    assert values(reply) == [[2, 12]]
    assert reply["meta"]["routing"] == {"router": 0, "addone": -1}
    reply = post(engines["router"], {"data": {"ndarray": [[1, 5]]}}).json()
    assert values(reply) == [[101, 105]] and reply["meta"]["tags"]["tagger"] == "yes"


def test_combiner_over_grpc(engines):
    assert values(post(engines["combiner"], {"data": {"ndarray": [[1, 2]]}}).json())[0] == [-99, -98]


def test_unit_error_passes_through_verbatim_with_the_node_in_a_header(engines, seldon_core_units):
    """The real wrapper's error body is the client's answer byte for byte, as Seldon's own e2e test expects
    (testing/scripts/test_s2i_python.py: `r.json()["status"]["info"] == "exception caught"`); the node is named
    in the Seldon-Failed-Node header."""
    request = {"data": {"ndarray": [[1, 2]]}}
    unit_port = seldon_core_units["failing"].http_port
    direct = requests.post(f"http://127.0.0.1:{unit_port}/predict", json=request, timeout=30)
    response = post(engines["failing"], request)
    assert response.status_code == direct.status_code == 418 and response.content == direct.content
    status = response.json()["status"]
    assert status["reason"] == "MY_REASON" and status["info"] == "custom failure"
    assert response.headers["Seldon-Failed-Node"] == "bad"


def test_feedback_reaches_the_real_router_with_its_routing(engines, seldon_core_units):
    request = {"data": {"ndarray": [[1, 5]]}}
    response = post(engines["router"], request).json()
    before = len(seldon_core_units["router"].feedback())
    feedback = {"request": request, "response": response, "reward": 3.0}
    assert requests.post(f"{engines['router'].url}/api/v1.0/feedback", json=feedback, timeout=30).ok
    entry = seldon_core_units["router"].feedback()[before]
    assert entry["routing"] == 1 and entry["reward"] == 3.0
