"""The shared SeldonMessage language: JSON ⇄ proto round trips and the REST body forms of the v1 wrapper."""

import base64

import pytest

from seldon_graph import messages
from seldon_graph.errors import SeldonError, from_user_exception, status_body


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"names": ["a", "b"], "tensor": {"shape": [1, 2], "values": [1.0, 2.0]}}},
        {"data": {"ndarray": [[1.0, "x", True]]}},
        {"data": {"tftensor": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "2"}]}, "floatVal": [1.0, 2.0]}}},
        {"strData": "hello", "meta": {"puid": "p1", "tags": {"k": "v"}, "routing": {"r": 1}}},
        {"binData": base64.b64encode(b"\x00\x01").decode()},
        {"jsonData": {"x": [1.0, {"y": "z"}]}},
        {"meta": {"requestPath": {"m": "img:1"}, "metrics": [{"key": "c", "type": "GAUGE", "value": 2.0}]}},
    ],
)
def test_seldon_message_round_trip(body):
    assert messages.to_dict(messages.to_proto(body, messages.SeldonMessage)) == body


def test_feedback_and_list_round_trip():
    feedback = {"request": {"data": {"ndarray": [[1.0]]}}, "reward": 0.5, "truth": {"strData": "t"}}
    assert messages.to_dict(messages.to_proto(feedback, messages.Feedback)) == feedback
    lst = {"seldonMessages": [{"strData": "a"}, {"strData": "b"}]}
    assert messages.to_dict(messages.to_proto(lst, messages.SeldonMessageList)) == lst


def test_to_proto_names_bad_field():
    with pytest.raises(SeldonError) as err:
        messages.to_proto({"data": {"tensor": {"shape": "x"}}}, messages.SeldonMessage)
    assert err.value.status_code == 400
    assert "SeldonMessage" in err.value.info


@pytest.mark.parametrize(
    "raw,content_type,query",
    [
        (b'{"data":{"ndarray":[[1,2]]}}', "application/json", None),
        (b'{"data":{"ndarray":[[1,2]]}}', "text/plain", None),
        (b"json=%7B%22data%22%3A%7B%22ndarray%22%3A%5B%5B1%2C2%5D%5D%7D%7D", "application/x-www-form-urlencoded", None),
        (b"", "", '{"data":{"ndarray":[[1,2]]}}'),
    ],
)
def test_parse_body_forms(raw, content_type, query):
    assert messages.parse_body(raw, content_type, query) == {"data": {"ndarray": [[1, 2]]}}


@pytest.mark.parametrize("raw", [b'{"data":{"ndarray":[[1,2]]}', b"not json at all", b""])
def test_parse_body_rejects_non_json(raw):
    with pytest.raises(SeldonError) as err:
        messages.parse_body(raw, "application/json")
    assert err.value.to_dict() == status_body("Can't find JSON in data", "MICROSERVICE_BAD_DATA")


def test_parse_body_rejects_non_object():
    with pytest.raises(SeldonError, match="Invalid request data type"):
        messages.parse_body(b"[1, 2]")


def test_user_exceptions_keep_their_status():
    class LikeSeldonCore(Exception):
        def __init__(self, message, status_code=400, reason="MICROSERVICE_BAD_DATA"):
            super().__init__(message)
            self.message, self.status_code, self.reason = message, status_code, reason

    custom = from_user_exception(LikeSeldonCore("custom failure", 418, "MY_REASON"))
    assert (custom.status_code, custom.to_dict()) == (418, status_body("custom failure", "MY_REASON"))
    plain = from_user_exception(ValueError("boom from model"))
    assert (plain.status_code, plain.to_dict()) == (500, status_body("boom from model", "MICROSERVICE_INTERNAL_ERROR"))
