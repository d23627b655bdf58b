"""REST contract of the wrapper, row by row from wrapper-contract.md, against real processes."""

import base64
import json

import pytest
import requests

pytestmark = pytest.mark.e2e

OK_BODY = {"data": {"names": ["t:0", "t:1"], "ndarray": [[2, 4]]}, "meta": {}}


def post(unit, path, body, **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    headers = kwargs.pop("headers", {"Content-Type": "application/json"})
    return requests.post(unit.url(path), data=data, headers=headers, timeout=10, **kwargs)


@pytest.mark.parametrize("path", ["/api/v1.0/predictions", "/predict", "/api/v0.1/predictions"])
def test_predict_ndarray_on_every_path(model, path):
    response = post(model, path, {"data": {"ndarray": [[1, 2]]}})
    assert response.status_code == 200
    assert response.json() == OK_BODY
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_predict_get_with_query_json(model):
    response = requests.get(model.url("/predict"), params={"json": json.dumps({"data": {"ndarray": [[1, 2]]}})})
    assert (response.status_code, response.json()) == (200, OK_BODY)


def test_predict_form_json(model):
    response = requests.post(model.url("/predict"), data={"json": json.dumps({"data": {"ndarray": [[1, 2]]}})})
    assert (response.status_code, response.json()) == (200, OK_BODY)


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            {"data": {"names": ["a", "b"], "tensor": {"shape": [1, 2], "values": [1, 2]}}},
            {"data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [2, 4]}}, "meta": {}},
        ),
        (
            {"meta": {"puid": "abc123", "tags": {"t": 1}}, "data": {"ndarray": [[1, 2]]}},
            {"data": {"names": ["t:0", "t:1"], "ndarray": [[2, 4]]}, "meta": {"puid": "abc123", "tags": {"t": 1}}},
        ),
        ({"strData": "hello"}, {"meta": {}, "strData": "hellohello"}),
        ({"binData": "aGVsbG8="}, {"binData": "aGVsbG9oZWxsbw==", "meta": {}}),
        ({"data": {}}, {"data": {"names": [], "ndarray": []}, "meta": {}}),
    ],
)
def test_predict_payload_kinds(model, body, expected):
    response = post(model, "/api/v1.0/predictions", body)
    assert (response.status_code, response.json()) == (200, expected)


def test_non_numeric_result_is_ndarray_even_for_tensor_requests(model):
    response = post(model, "/transform-input", {"data": {"ndarray": [["a", 1]]}})
    assert response.json() == {
        "data": {"names": ["t:0", "t:1"], "ndarray": [["a", "1"]]},
        "meta": {},
    }  # numpy makes it str
    response = post(model, "/predict", {"strData": "x", "meta": {"tags": {"k": "v"}}})
    assert response.json() == {"meta": {"tags": {"k": "v"}}, "strData": "xx"}


def test_tftensor_in_tftensor_out(model):
    tensor = {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "1"}, {"size": "2"}]}, "floatVal": [1, 2]}
    response = post(model, "/predict", {"data": {"tftensor": tensor}})
    assert response.status_code == 200
    out = response.json()["data"]
    assert out["names"] == ["t:0", "t:1"]
    assert out["tftensor"]["dtype"] == "DT_FLOAT"
    assert out["tftensor"]["tensorShape"] == {"dim": [{"size": "1"}, {"size": "2"}]}
    assert base64.b64decode(out["tftensor"]["tensorContent"]) == b"\x00\x00\x00@\x00\x00\x80@"  # 2.0f, 4.0f


def _status(info, reason="MICROSERVICE_BAD_DATA"):
    return {"status": {"code": -1, "info": info, "reason": reason, "status": 1}}


@pytest.mark.parametrize(
    "body, headers, status, expected",
    [
        ("{}", {"Content-Type": "application/json"}, 400, _status("Invalid request data type: {}")),
        ('{"data":{"ndarray":[[1,2]]}', {"Content-Type": "application/json"}, 400, _status("Can't find JSON in data")),
        ("not json at all", {"Content-Type": "application/json"}, 400, _status("Can't find JSON in data")),
        ("", {"Content-Type": "application/json"}, 400, _status("Can't find JSON in data")),
        (
            '{"jsonData":{"x":1}}',
            {"Content-Type": "application/json"},
            500,
            _status("unsupported operand type(s) for *: 'dict' and 'int'", "MICROSERVICE_INTERNAL_ERROR"),
        ),
    ],
)
def test_predict_errors(model, body, headers, status, expected):
    response = post(model, "/api/v1.0/predictions", body, headers=headers)
    assert (response.status_code, response.json()) == (status, expected)


def test_json_body_with_other_content_type_is_accepted(model):
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = post(model, "/predict", {"data": {"ndarray": [[1, 2]]}}, headers={"Content-Type": content_type})
        assert (response.status_code, response.json()) == (200, OK_BODY)


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"data": {"tensor": {"shape": [3], "values": [1, 2]}}}, "Invalid tensor"),
        ({"data": {"ndarray": [[1, 2], [3]]}}, "Invalid ndarray"),
        ({"binData": "***"}, "Invalid binData"),
        ({"data": [1, 2]}, "Invalid data"),
        ([1, 2], "Invalid request data type"),
    ],
)
def test_wrong_types_are_400_saying_what_is_wrong(model, body, fragment):
    response = post(model, "/predict", body)
    assert response.status_code == 400
    assert fragment in response.json()["status"]["info"]
    assert response.json()["status"]["reason"] == "MICROSERVICE_BAD_DATA"


@pytest.mark.parametrize("method, path", [("GET", "/nonexistent"), ("GET", "/metrics"), ("POST", "/api/v2/x")])
def test_unknown_path_is_404_with_status_body(model, method, path):
    response = requests.request(method, model.url(path), timeout=5)
    assert response.status_code == 404
    status = response.json()["status"]
    assert status["code"] == -1 and status["status"] == 1 and path in status["info"]


def test_wrong_http_method_is_405(model):
    response = requests.get(model.url("/api/v1.0/predictions"), timeout=5)
    assert response.status_code == 405
    assert "POST" in response.json()["status"]["info"]


def test_health_and_probes(model):
    ping = requests.get(model.url("/health/ping"))
    assert (ping.status_code, ping.text) == (200, "pong")
    assert ping.headers["Content-Type"].startswith("text/html")
    for path in ("/health/status", "/api/v1.0/health/status"):
        response = requests.get(model.url(path))
        assert (response.status_code, response.json()) == (200, {"meta": {}, "strData": "healthy"})
    assert requests.get(model.url("/live")).status_code == 200
    assert requests.get(model.url("/ready")).status_code == 200


def test_default_metadata(model):
    for path in ("/metadata", "/api/v1.0/metadata"):
        response = requests.get(model.url(path))
        assert response.status_code == 200
        assert response.json() == {
            "custom": {},
            "inputs": [],
            "name": "",
            "outputs": [],
            "platform": "",
            "versions": [""],
        }


def test_feedback_paths(model):
    body = {"request": {"data": {"ndarray": [[1, 2]]}}, "response": {"data": {"ndarray": [[2, 4]]}}, "reward": 1.0}
    for path in ("/send-feedback", "/api/v1.0/feedback", "/api/v0.1/feedback"):
        response = post(model, path, body)
        assert (response.status_code, response.json()) == (200, {"data": {"ndarray": []}, "meta": {}})


def test_bad_feedback_is_400(model):
    response = post(model, "/send-feedback", {"request": {"data": {"ndarray": "oops"}}, "reward": "x"})
    assert response.status_code == 400
    assert response.json()["status"]["info"].startswith("Invalid Feedback")


def test_model_without_route_aggregate_or_transforms(model):
    route = post(model, "/route", {"data": {"ndarray": [[1, 2]]}})
    assert (route.status_code, route.json()) == (400, _status("Route not defined"))
    aggregate = post(model, "/aggregate", {"seldonMessages": [{"data": {"ndarray": [[1, 2]]}}]})
    assert (aggregate.status_code, aggregate.json()) == (400, _status("Aggregate not defined"))
    echoed = {"data": {"names": ["t:0", "t:1"], "ndarray": [[1, 2]]}, "meta": {}}
    for path in ("/transform-input", "/transform-output"):
        response = post(model, path, {"data": {"ndarray": [[1, 2]]}})
        assert (response.status_code, response.json()) == (200, echoed)


def test_model_that_raises_is_500_with_its_message(bad_model):
    for path in ("/api/v1.0/predictions", "/predict"):
        response = post(bad_model, path, {"data": {"ndarray": [[1, 2]]}})
        assert (response.status_code, response.json()) == (
            500,
            _status("boom from model", "MICROSERVICE_INTERNAL_ERROR"),
        )
    health = requests.get(bad_model.url("/health/status"))
    assert (health.status_code, health.json()) == (200, {"meta": {}, "strData": "healthy"})


def test_user_seldon_exception_keeps_code_and_reason(exc_model):
    response = post(exc_model, "/predict", {"data": {"ndarray": [[1, 2]]}})
    assert (response.status_code, response.json()) == (418, _status("custom failure", "MY_REASON"))


def test_router(router):
    cases = [
        ({"data": {"ndarray": [[1, 2]]}}, {"data": {"names": ["t:0"], "ndarray": [[0]]}, "meta": {}}),
        ({"data": {"ndarray": [[50, 2]]}}, {"data": {"names": ["t:0"], "ndarray": [[1]]}, "meta": {}}),
        (
            {"data": {"tensor": {"shape": [1, 2], "values": [50, 2]}}},
            {"data": {"names": ["t:0"], "tensor": {"shape": [1, 1], "values": [1]}}, "meta": {}},
        ),
    ]
    for body, expected in cases:
        response = post(router, "/route", body)
        assert (response.status_code, response.json()) == (200, expected)
    predict = post(router, "/api/v1.0/predictions", {"data": {"ndarray": [[1, 2]]}})
    assert (predict.status_code, predict.json()) == (200, {"data": {"names": [], "ndarray": []}, "meta": {}})


def test_router_feedback(router):
    body = {"request": {"data": {"ndarray": [[1, 2]]}}, "response": {"meta": {"routing": {"router": 1}}}, "reward": 1.0}
    response = post(router, "/send-feedback", body)
    assert (response.status_code, response.json()) == (200, {"data": {"ndarray": []}, "meta": {}})


def test_transformer(transformer):
    cases = [
        (
            "/transform-input",
            {"data": {"ndarray": [[1, 2]]}},
            {"data": {"names": ["t:0", "t:1"], "ndarray": [[2, 3]]}, "meta": {}},
        ),
        (
            "/transform-output",
            {"data": {"ndarray": [[1, 2]]}},
            {"data": {"names": ["t:0", "t:1"], "ndarray": [[10, 20]]}, "meta": {}},
        ),
        (
            "/transform-input",
            {"meta": {"puid": "p1"}, "data": {"names": ["x", "y"], "tensor": {"shape": [1, 2], "values": [1, 2]}}},
            {"data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [2, 3]}}, "meta": {"puid": "p1"}},
        ),
        ("/api/v1.0/predictions", {"data": {"ndarray": [[1, 2]]}}, {"data": {"names": [], "ndarray": []}, "meta": {}}),
    ]
    for path, body, expected in cases:
        response = post(transformer, path, body)
        assert (response.status_code, response.json()) == (200, expected)


def test_combiner(combiner):
    ndarrays = {"seldonMessages": [{"data": {"ndarray": [[1, 2]]}}, {"data": {"ndarray": [[3, 4]]}}]}
    response = post(combiner, "/aggregate", ndarrays)
    assert (response.status_code, response.json()) == (
        200,
        {"data": {"names": ["t:0", "t:1"], "ndarray": [[2.0, 3.0]]}, "meta": {}},
    )
    tensors = {
        "seldonMessages": [
            {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}},
            {"data": {"tensor": {"shape": [1, 2], "values": [3, 6]}}},
        ]
    }
    response = post(combiner, "/aggregate", tensors)
    assert (response.status_code, response.json()) == (
        200,
        {"data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [2.0, 4.0]}}, "meta": {}},
    )
    bare_list = post(combiner, "/aggregate", ndarrays["seldonMessages"])
    assert bare_list.status_code == 200 and bare_list.json()["data"]["ndarray"] == [[2.0, 3.0]]


def test_combiner_meta_is_merged(combiner):
    body = {
        "seldonMessages": [
            {"meta": {"puid": "p", "tags": {"a": 1, "b": 1}, "requestPath": {"m1": "i:1"}}, "data": {"ndarray": [[1]]}},
            {
                "meta": {"tags": {"b": 2}, "requestPath": {"m2": "i:2"}, "metrics": [{"key": "k", "value": 1}]},
                "data": {"ndarray": [[3]]},
            },
        ]
    }
    response = post(combiner, "/aggregate", body)
    assert response.status_code == 200
    assert response.json()["meta"] == {
        "metrics": [{"key": "k", "value": 1}],
        "puid": "p",
        "requestPath": {"m1": "i:1", "m2": "i:2"},
        "tags": {"a": 1, "b": 2},
    }


def test_combiner_rejects_a_single_message(combiner):
    response = post(combiner, "/aggregate", {"data": {"ndarray": [[1, 2]]}})
    assert (response.status_code, response.json()) == (
        400,
        _status("Invalid request data type: {'data': {'ndarray': [[1, 2]]}}"),
    )
    empty = post(combiner, "/aggregate", {"seldonMessages": []})
    assert empty.status_code == 400


def test_meta_model(meta_model):
    metric = [{"type": "COUNTER", "key": "mycounter", "value": 1}]
    response = post(meta_model, "/api/v1.0/predictions", {"data": {"ndarray": [[1, 2]]}})
    assert (response.status_code, response.json()) == (
        200,
        {"data": {"names": ["a", "b"], "ndarray": [[2, 4]]}, "meta": {"metrics": metric, "tags": {"mytag": "v1"}}},
    )
    response = post(
        meta_model,
        "/api/v1.0/predictions",
        {"meta": {"puid": "abc", "tags": {"in": "x"}}, "data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}},
    )
    assert response.json() == {
        "data": {"names": ["a", "b"], "tensor": {"shape": [1, 2], "values": [2, 4]}},
        "meta": {"metrics": metric, "puid": "abc", "tags": {"in": "x", "mytag": "v1"}},
    }
    metadata = requests.get(meta_model.url("/metadata")).json()
    assert metadata == {
        "custom": {},
        "inputs": [{"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2]}}],
        "name": "meta-model",
        "outputs": [{"messagetype": "tensor", "schema": {"shape": [2]}}],
        "platform": "custom",
        "versions": ["v1"],
    }
    health = requests.get(meta_model.url("/health/status")).json()
    assert health == {"meta": {"metrics": metric, "tags": {"mytag": "v1"}}, "strData": "healthy"}


def test_metrics_accumulate_along_a_chain(meta_model):
    upstream = [{"key": "up", "type": "GAUGE", "value": 3}]
    response = post(meta_model, "/predict", {"meta": {"metrics": upstream}, "data": {"ndarray": [[1, 2]]}})
    assert response.json()["meta"]["metrics"] == upstream + [{"type": "COUNTER", "key": "mycounter", "value": 1}]


def test_large_tensor_over_one_megabyte(model):
    values = [float(i % 97) for i in range(1000 * 100)]
    response = post(model, "/predict", {"data": {"tensor": {"shape": [1000, 100], "values": values}}})
    assert response.status_code == 200
    tensor = response.json()["data"]["tensor"]
    assert tensor["shape"] == [1000, 100] and tensor["values"] == [v * 2 for v in values]


def test_cors_preflight_and_head(model):
    preflight = requests.options(
        model.url("/api/v1.0/predictions"),
        headers={
            "Origin": "http://x",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"
    head = requests.head(model.url("/health/status"))
    assert head.status_code == 200 and head.content == b""


def test_expect_100_continue(model):
    import socket

    body = b'{"data":{"ndarray":[[1,2]]}}'
    with socket.create_connection(("127.0.0.1", model.http_port), timeout=5) as sock:
        sock.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        answer = b""
        while b"[[2,4]]" not in answer:
            chunk = sock.recv(4096)
            assert chunk
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
