"""Every example SeldonDeployment, all at once behind one real Envoy: REST and gRPC predictions through the ingress,
the 75/25 canary split, the shadow copy, header routing, OAuth, and the real SeldonClient."""

from __future__ import annotations

import json
import subprocess
import time

import grpc
import pytest
import requests
import yaml

from tests.local.conftest import EXAMPLES, alive, grpc_predict, ndarray, shadow_manifest

pytestmark = pytest.mark.e2e

# example → (input, expected output), for REST and gRPC
EXPECTED = {
    "single-model": ([[1.0, 2.0]], [[2.0, 4.0]]),
    "graph": ([[1.0, 2.0]], [[4.0, 6.0]]),
    "combiner": ([[1.0, 2.0]], [[2.5, 5.0]]),
    "shadow": ([[1.0, 2.0]], [[2.0, 4.0]]),
    "headers": ([[1.0, 2.0]], [[2.0, 4.0]]),
}
FILES = ["single-model.yaml", "graph.yaml", "combiner.yaml", "canary.yaml", "headers.yaml", "oauth.yaml"]
# other shapes the operator renders: engine in its own pod, no engine, units called over gRPC
SHAPES = {
    "separate-engine": (
        "combiner.yaml",
        lambda d: d["spec"].update(annotations={"seldon.io/engine-separate-pod": "true"}),
    ),
    "no-engine": (
        "single-model.yaml",
        lambda d: d["spec"]["predictors"][0].update(annotations={"seldon.io/no-engine": "true"}),
    ),
    "grpc-units": ("graph.yaml", lambda d: d["spec"].update(transport="grpc")),
}
EXPECTED.update(
    {"separate-engine": EXPECTED["combiner"], "no-engine": EXPECTED["single-model"], "grpc-units": EXPECTED["graph"]}
)


def shaped(folder, name: str) -> str:
    example, change = SHAPES[name]
    manifest = yaml.safe_load((EXAMPLES / example).read_text())
    manifest["metadata"]["name"] = name
    change(manifest)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return str(path)


@pytest.fixture(scope="module")
def stack(local, tmp_path_factory):
    for name in FILES:
        local.up(EXAMPLES / name)
    local.up(shadow_manifest(tmp_path_factory.mktemp("shadow")))
    shapes = tmp_path_factory.mktemp("shapes")
    for name in SHAPES:
        local.up(shaped(shapes, name))
    return local


def predict(url: str, values, **kwargs) -> requests.Response:
    return requests.post(url, json={"data": {"ndarray": values}}, timeout=10, **kwargs)


def test_all_examples_are_available(stack):
    deployments = stack.status()["deployments"]
    assert {s["name"]: s["state"] for s in deployments.values()} == {
        "single-model": "Available",
        "graph": "Available",
        "combiner": "Available",
        "canary": "Available",
        "headers": "Available",
        "headers-london": "Available",
        "oauth": "Available",
        "shadow": "Available",
        "separate-engine": "Available",
        "no-engine": "Available",
        "grpc-units": "Available",
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rest_prediction_through_the_ingress(stack, name):
    values, expected = EXPECTED[name]
    response = predict(stack.rest(name), values)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["ndarray"] == expected


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_grpc_prediction_through_the_ingress(stack, name):
    values, expected = EXPECTED[name]
    assert ndarray(grpc_predict(stack.port, name, values)) == expected


def test_router_takes_the_other_branch(stack):
    assert predict(stack.rest("graph"), [[20.0, 1.0]]).json()["data"]["ndarray"] == [[63.0, 6.0]]
    assert predict(stack.rest("graph"), [[20.0, 1.0]]).json()["meta"]["routing"]["router"] == 1


def test_canary_splits_75_25_over_1000_requests(stack):
    counts = {2.0: 0, 3.0: 0}
    with requests.Session() as session:
        for _ in range(1000):
            response = session.post(stack.rest("canary"), json={"data": {"ndarray": [[1.0]]}}, timeout=10)
            counts[response.json()["data"]["ndarray"][0][0]] += 1
    # binomial(1000, 0.75): sd 13.7; ±60 is more than 4 sd
    assert 690 <= counts[2.0] <= 810, counts
    assert counts[2.0] + counts[3.0] == 1000


def test_canary_over_grpc_reaches_both_predictors(stack):
    seen = {ndarray(grpc_predict(stack.port, "canary", [[1.0]]))[0][0] for _ in range(60)}
    assert seen == {2.0, 3.0}


def test_shadow_gets_a_copy_of_every_request_and_clients_see_only_main(stack, tmp_path_factory):
    record = next(p for p in tmp_path_factory.getbasetemp().glob("shadow*/shadow-requests.log"))
    before = len(record.read_text().splitlines()) if record.exists() else 0
    for i in range(20):
        response = predict(stack.rest("shadow"), [[float(i), 1.0]])
        assert response.json()["data"]["ndarray"] == [[2.0 * i, 2.0]]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(record.read_text().splitlines()) < before + 20:
        time.sleep(0.05)
    lines = record.read_text().splitlines()[before:]
    assert sorted(lines) == sorted(f"{float(i)} 1.0" for i in range(20))


def test_header_routes_to_the_matching_deployment(stack):
    url = stack.rest("headers")
    assert predict(url, [[1.0, 2.0]], headers={"location": "london"}).json()["data"]["ndarray"] == [[3.0, 6.0]]
    assert predict(url, [[1.0, 2.0]], headers={"location": "paris"}).json()["data"]["ndarray"] == [[2.0, 4.0]]
    assert ndarray(grpc_predict(stack.port, "headers", [[1.0, 2.0]], (("location", "london"),))) == [[3.0, 6.0]]


def test_status_tells_where_the_header_route_is_served(stack):
    urls = stack.status()["deployments"]["seldon.headers-london"]["urls"]
    assert urls["rest"] == stack.rest("headers")
    assert urls["grpc_metadata"] == {"seldon": "headers", "namespace": "seldon"}
    assert urls["header"] == "location:london"


def test_oauth_requires_a_token_from_the_token_endpoint(stack):
    url = stack.rest("oauth")
    denied = predict(url, [[1.0, 2.0]])
    assert denied.status_code == 401
    assert denied.json() == {
        "status": {
            "code": -1,
            "info": "this deployment requires an OAuth bearer token: get one from POST /oauth/token",
            "reason": "UNAUTHORIZED",
            "status": 1,
        }
    }
    bad = requests.post(f"{stack.base}/oauth/token", auth=("key1", "wrong"), data={"grant_type": "client_credentials"})
    assert bad.status_code == 401
    token = requests.post(
        f"{stack.base}/oauth/token", auth=("key1", "secret1"), data={"grant_type": "client_credentials"}
    ).json()["access_token"]
    assert predict(url, [[1.0, 2.0]], headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = predict(url, [[1.0, 2.0]], headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["data"]["ndarray"] == [[2.0, 4.0]]


def test_oauth_over_grpc(stack):
    with pytest.raises(grpc.RpcError) as denied:
        grpc_predict(stack.port, "oauth", [[1.0]])
    assert denied.value.code() == grpc.StatusCode.UNAUTHENTICATED
    token = requests.post(
        f"{stack.base}/oauth/token", auth=("key1", "secret1"), data={"grant_type": "client_credentials"}
    ).json()["access_token"]
    assert ndarray(grpc_predict(stack.port, "oauth", [[1.0]], (("x-auth-token", token),))) == [[2.0]]


def test_other_deployments_stay_open_with_oauth_on(stack):
    assert predict(stack.rest("single-model"), [[1.0]]).status_code == 200


SELDON_CLIENT = """
import json
import sys
import numpy as np
from seldon_core.seldon_client import SeldonClient
sc = SeldonClient(gateway="ambassador", gateway_endpoint=sys.argv[1], namespace="seldon", deployment_name="single-model")
rest = sc.predict(data=np.array([[1.0, 2.0]]), payload_type="ndarray")
grpc_ = sc.predict(data=np.array([[1.0, 2.0]]), payload_type="ndarray", transport="grpc")
print(json.dumps([rest.success, rest.response["data"]["ndarray"], grpc_.success, grpc_.response["data"]["ndarray"]]))
"""


def seldon_client(seldon_core, script: str, port: int):
    """What `script` prints (JSON), run by the real seldon-core 1.18.2 in its own venv against the ingress."""
    result = subprocess.run(
        [str(seldon_core / "python"), "-c", script, f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_real_seldon_client_talks_to_the_ingress(stack, seldon_core):
    assert seldon_client(seldon_core, SELDON_CLIENT, stack.port) == [True, [[2.0, 4.0]], True, [[2.0, 4.0]]]


SELDON_CLIENT_OAUTH = """
import json
import sys
import numpy as np
import requests
from seldon_core.seldon_client import SeldonCallCredentials, SeldonClient
endpoint = sys.argv[1]
token = requests.post(f"http://{endpoint}/oauth/token", auth=("key1", "secret1"),
                      data={"grant_type": "client_credentials"}).json()["access_token"]
sc = SeldonClient(gateway="ambassador", gateway_endpoint=endpoint, namespace="seldon", deployment_name="oauth",
                  call_credentials=SeldonCallCredentials(token=token), ssl=False)
rest = sc.predict(data=np.array([[1.0, 2.0]]), payload_type="ndarray")
grpc_ = sc.predict(data=np.array([[1.0, 2.0]]), payload_type="ndarray", transport="grpc",
                   headers={"x-auth-token": token})
print(json.dumps([rest.success, rest.response["data"]["ndarray"], grpc_.success, grpc_.response["data"]["ndarray"]]))
"""


def test_the_real_seldon_client_with_an_oauth_token(stack, seldon_core):
    assert seldon_client(seldon_core, SELDON_CLIENT_OAUTH, stack.port) == [True, [[2.0, 4.0]], True, [[2.0, 4.0]]]


def test_logs_of_units_and_of_the_ingress(stack):
    engine = stack.run("logs", "single-model", "-n", "5", check=True).stdout
    assert "==> single-model-default-0-classifier/seldon-container-engine" in engine
    assert "==> single-model-default-0-classifier/classifier" in engine
    assert "serving predictor default" in engine
    ingress = stack.run("logs", "ingress", check=True).stdout
    assert "==> envoy (" in ingress and "==> oauth-token-service (" in ingress
    unknown = stack.run("logs", "nope")
    assert unknown.returncode == 2 and "no unit matches 'nope'; units: " in unknown.stderr


def test_unknown_path_gets_a_seldon_status_body(stack):
    response = predict(f"{stack.base}/seldon/seldon/nope/api/v1.0/predictions", [[1.0]])
    assert response.status_code == 404
    assert response.json()["status"]["status"] == 1


def test_down_of_one_deployment_leaves_the_others_running(stack):
    before = stack.status()["deployments"]["seldon.combiner"]
    result = stack.run("down", "combiner", check=True)
    assert "stopped seldon/combiner" in result.stdout
    assert "seldon.combiner" not in stack.status()["deployments"]
    assert not any(alive(u["pid"]) for u in before["units"])
    assert predict(stack.rest("combiner"), [[1.0]]).status_code == 404
    assert predict(stack.rest("single-model"), [[1.0]]).status_code == 200
