"""JSON like Seldon's peers: NaN and infinities in and out, everything else exactly as orjson does it."""

import math

import numpy as np
import orjson
import pytest

from seldon_graph import jsontext


def test_non_finite_literals_are_read():
    value = jsontext.loads(b'{"a":[NaN,Infinity,-Infinity,1.5],"b":null}')
    assert math.isnan(value["a"][0]) and value["a"][1:] == [math.inf, -math.inf, 1.5] and value["b"] is None
    assert math.isinf(jsontext.loads("-Infinity"))


def test_non_finite_floats_are_written_as_literals_and_null_stays_null():
    assert jsontext.dumps({"a": [math.nan, None], "b": math.inf}) == b'{"a":[NaN,null],"b":Infinity}'
    assert jsontext.dumps(np.array([[1.0, -np.inf]])) == b"[[1.0,-Infinity]]"
    assert jsontext.dumps({"x": np.float32("nan"), "s": "é"}) == '{"x":NaN,"s":"é"}'.encode()
    assert jsontext.dumps({"a": None, "b": [1.5]}) == orjson.dumps({"a": None, "b": [1.5]})


@pytest.mark.parametrize(
    "raw", [b"{bad", b"\xff\xfe", b"[" * 5000, b"[NaN", b"", b"nan", b"[1,]", b'"\\ud800"x', b"Infinityx"]
)
def test_what_neither_parser_accepts_is_orjsons_error(raw):
    with pytest.raises(jsontext.JSONDecodeError):
        jsontext.loads(raw)


def test_has_non_finite_looks_inside_containers_and_arrays():
    assert jsontext.has_non_finite({"a": ({"b": [math.nan]},)})
    assert jsontext.has_non_finite(np.array([1, np.nan], dtype=object))
    assert not jsontext.has_non_finite({"a": [1, "NaN", None, np.arange(3)]})
