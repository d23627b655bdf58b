"""PREDICTIVE_UNIT_PARAMETERS parsing: the original's types and messages, plus JSON as an extension."""

import pytest

from seldon_graph.errors import SeldonError
from seldon_graph.parameters import parse_parameters


def test_all_types():
    params = [
        {"name": "i", "value": "3", "type": "INT"},
        {"name": "f", "value": "0.5", "type": "FLOAT"},
        {"name": "d", "value": "1e3", "type": "DOUBLE"},
        {"name": "s", "value": "x", "type": "STRING"},
        {"name": "b", "value": "Yes", "type": "BOOL"},
        {"name": "n", "value": "off", "type": "BOOL"},
        {"name": "j", "value": '{"a": [1]}', "type": "JSON"},
    ]
    assert parse_parameters(params) == {"i": 3, "f": 0.5, "d": 1000.0, "s": "x", "b": True, "n": False, "j": {"a": [1]}}


def test_json_text_and_empty():
    assert parse_parameters('[{"name":"a","value":"1","type":"INT"}]') == {"a": 1}
    assert parse_parameters("") == {} and parse_parameters(None) == {} and parse_parameters("[]") == {}


@pytest.mark.parametrize(
    "params,message",
    [
        (
            [{"name": "a", "value": "1.0", "type": "INT"}],
            "Bad model parameter: a with value 1.0 can't be parsed as a INT",
        ),
        ([{"name": "a", "value": "maybe", "type": "BOOL"}], "Bad model parameter: a with value maybe"),
        ([{"name": "a", "value": "1", "type": "LONG"}], "Bad model parameter type: LONG for parameter a"),
        ("not json", "not a JSON list"),
        ([{"value": "1"}], "at index 0"),
    ],
)
def test_errors_name_the_parameter(params, message):
    with pytest.raises(SeldonError) as err:
        parse_parameters(params)
    assert message in err.value.info
    assert err.value.reason == "MICROSERVICE_BAD_PARAMETER"
