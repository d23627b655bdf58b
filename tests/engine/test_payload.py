"""Splitting `meta` off a message without decoding the rest, and re-assembling it, in JSON and proto form."""

import orjson
import pytest
from google.protobuf import json_format

from seldon_graph.engine.payload import Payload, join_json, split_json, split_proto
from seldon_graph.engine.router_reply import route_from_reply
from seldon_graph.errors import SeldonError
from seldon_graph.proto import prediction_pb2 as pb

DATA = {"data": {"names": ["a"], "ndarray": [[1, 2]]}}


@pytest.mark.parametrize(
    "document",
    [
        b'{"data":{"names":["a"],"ndarray":[[1,2]]},"meta":{"puid":"p","tags":{"k":1}}}',
        b'{"meta":{"puid":"p","tags":{"k":1}},"data":{"names":["a"],"ndarray":[[1,2]]}}',
        b' {\n "meta" : {"puid":"p","tags":{"k":1}} ,\n "data":{"names":["a"],"ndarray":[[1,2]]} } \n',
        b'{"data":{"names":["a"],"ndarray":[[1,2]]} , "meta" : {"puid":"p","tags":{"k":1}}}',
        # meta in the middle, and a nested "meta" key: both need the full parse, with the same result
        b'{"strData":"x","meta":{"puid":"p","tags":{"k":1}},"data":{"names":["a"],"ndarray":[[1,2]]}}',
        b'{"data":{"names":["a"],"ndarray":[[1,2]]},"meta":{"puid":"p","tags":{"k":1,"meta":{}}}}',
    ],
)
def test_split_json_finds_top_level_meta(document):
    meta, members = split_json(document)
    assert meta["puid"] == "p" and meta["tags"]["k"] == 1
    rebuilt = orjson.loads(join_json(members, {"puid": "q"}))
    assert rebuilt["meta"] == {"puid": "q"}
    assert rebuilt["data"] == DATA["data"]


def test_split_json_ignores_meta_inside_strings_and_nested_objects():
    document = b'{"jsonData":{"meta":{"x":1}},"strData":"\\"meta\\":{}"}'
    meta, members = split_json(document)
    assert meta == {}
    assert orjson.loads(b"{" + members + b"}") == orjson.loads(document)


def test_split_json_without_meta_keeps_the_members_verbatim():
    meta, members = split_json(b'{"data":{"ndarray":[[1.50,2e3]]}}')
    assert meta == {} and members == b'"data":{"ndarray":[[1.50,2e3]]}'


def test_large_data_is_passed_as_the_same_bytes():
    values = ",".join(f"{i}.25" for i in range(100_000)).encode()
    document = b'{"data":{"tensor":{"shape":[1,100000],"values":[' + values + b']}},"meta":{"tags":{"a":1}}}'
    payload, meta = Payload.from_json(document)
    assert meta["tags"] == {"a": 1} and payload.tags == {"a": 1}
    assert values in payload.json_body({"puid": "x"})


def test_split_json_rejects_non_objects():
    with pytest.raises(SeldonError):
        split_json(b"[1,2]")


def test_proto_split_and_join_round_trip():
    message = json_format.ParseDict({**DATA, "meta": {"puid": "p", "tags": {"k": "v"}}}, pb.SeldonMessage())
    payload, meta = Payload.from_proto(message.SerializeToString())
    assert meta == {"puid": "p", "tags": {"k": "v"}}
    rebuilt = pb.SeldonMessage.FromString(payload.proto_body({"puid": "q", "routing": {"r": 1}}))
    assert rebuilt.meta.puid == "q" and dict(rebuilt.meta.routing) == {"r": 1}
    assert json_format.MessageToDict(rebuilt.data) == DATA["data"]


def test_proto_without_meta_is_kept_whole():
    raw = pb.SeldonMessage(strData="hi").SerializeToString()
    assert split_proto(raw) == ({}, raw)


def test_json_and_proto_convert_into_each_other():
    payload, _ = Payload.from_json(orjson.dumps(DATA))
    from_proto, _ = Payload.from_proto(pb.SeldonMessage.FromString(payload.proto_body({})).SerializeToString())
    assert orjson.loads(from_proto.json_body({}))["data"] == DATA["data"]


@pytest.mark.parametrize(
    "reply, route",
    [
        ({"data": {"ndarray": [[1]]}}, 1),
        ({"data": {"ndarray": [2]}}, 2),
        ({"data": {"ndarray": [[1, 2], [3, 4]]}}, 1),
        ({"data": {"tensor": {"shape": [1, 1], "values": [-2.0]}}}, -2),
        ({"data": {"tftensor": {"intVal": [3]}}}, 3),
        ({"strData": "x"}, -1),
        ([0], 0),
    ],
)
def test_route_extraction(reply, route):
    assert route_from_reply("r", reply) == route


@pytest.mark.parametrize("reply", [{"data": {"ndarray": []}}, {"data": {"ndarray": [["a"]]}}, "x"])
def test_unreadable_route_is_an_error_naming_the_router(reply):
    with pytest.raises(SeldonError) as caught:
        route_from_reply("myrouter", reply)
    assert caught.value.status_code == 500 and "myrouter" in caught.value.info
