"""Loading SeldonDeployments into the typed model: all served versions, round-trips, unknown fields by path."""

import json

import pytest
import yaml

from seldon_graph.sdep import (
    PredictiveUnit,
    PredictorSpec,
    SdepError,
    SeldonDeployment,
    parse,
    parse_predictor,
    schema_gen,
    structure,
)
from tests.support.schemas import SCHEMAS

EXAMPLE = (SCHEMAS / "examples" / "seldondeployment.yaml").read_text()


def minimal(**spec_extra) -> dict:
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": "iris", "namespace": "seldon"},
        "spec": {
            "predictors": [
                {
                    "name": "main",
                    "componentSpecs": [{"spec": {"containers": [{"name": "classifier", "image": "img:1"}]}}],
                    "graph": {"name": "classifier", "type": "MODEL"},
                }
            ],
            **spec_extra,
        },
    }


@pytest.mark.parametrize("version", ["v1", "v1alpha2", "v1alpha3"])
def test_every_served_version_loads(version):
    doc = minimal()
    doc["apiVersion"] = f"machinelearning.seldon.io/{version}"
    sdep = parse(doc)
    assert isinstance(sdep, SeldonDeployment)
    assert sdep.name == "iris" and sdep.namespace == "seldon"
    assert sdep.predictors[0].graph.name == "classifier"


def test_published_example_round_trips_to_the_same_json():
    sdep = parse(EXAMPLE)
    assert sdep.to_dict() == yaml.safe_load(EXAMPLE)
    assert json.dumps(parse(EXAMPLE).to_dict()) == json.dumps(sdep.to_dict())
    graph = sdep.predictors[0].graph
    assert [u.name for u in graph.walk()] == ["combiner", "classifier", "transformer"]
    assert sdep.predictors[0].component_specs[0].hpa_spec.max_replicas == 3
    assert sdep.predictors[0].component_specs[0].pdb_spec.min_available == 1


def test_json_text_and_dict_give_the_same_model():
    assert parse(json.dumps(minimal())) == parse(minimal())


def test_parse_does_not_alias_the_input():
    doc = minimal()
    sdep = parse(doc)
    sdep.predictors[0].component_specs[0].containers[0]["image"] = "changed"
    assert doc["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"][0]["image"] == "img:1"


@pytest.mark.parametrize(
    "mutate, path",
    [
        (lambda d: d["spec"].update(typo=1), "spec.typo: unknown field"),
        (
            lambda d: d["spec"]["predictors"][0]["graph"].update(children=[{"name": "a"}, {"name": "b", "typo": 1}]),
            "spec.predictors[0].graph.children[1].typo: unknown field",
        ),
        (
            lambda d: d["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"][0].update(imagee="x"),
            "spec.predictors[0].componentSpecs[0].spec.containers[0].imagee: unknown field",
        ),
        (
            lambda d: d["spec"]["predictors"][0].update(traffic="ten"),
            "spec.predictors[0].traffic: expected integer, got a string",
        ),
        (
            lambda d: d["spec"]["predictors"][0].update(shadow="yes"),
            "spec.predictors[0].shadow: expected boolean, got a string",
        ),
        (
            lambda d: d["spec"]["predictors"][0]["graph"].pop("name"),
            "spec.predictors[0].graph.name: required field is missing",
        ),
        (
            lambda d: d["spec"]["predictors"][0]["graph"].update(parameters=[{"name": "x", "value": "1"}]),
            "spec.predictors[0].graph.parameters[0].type: required field is missing",
        ),
        (lambda d: d.update(extra=1), "extra: unknown field"),
    ],
)
def test_structural_errors_name_the_field_path(mutate, path):
    doc = minimal()
    mutate(doc)
    with pytest.raises(SdepError) as caught:
        parse(doc)
    assert path in caught.value.errors


def test_deep_graphs_are_checked_below_the_ten_levels_of_the_published_schema():
    node = {"name": "leaf", "typo": True}
    for depth in range(12):
        node = {"name": f"n{depth}", "children": [node]}
    doc = minimal()
    doc["spec"]["predictors"][0]["graph"] = node
    with pytest.raises(SdepError) as caught:
        parse(doc)
    assert caught.value.errors == ["spec.predictors[0].graph" + ".children[0]" * 12 + ".typo: unknown field"]


@pytest.mark.parametrize(
    "doc, message",
    [
        (
            {**minimal(), "apiVersion": "machinelearning.seldon.io/v2"},
            "apiVersion: 'machinelearning.seldon.io/v2' is not",
        ),
        ({**minimal(), "kind": "Deployment"}, "kind: 'Deployment' is not SeldonDeployment"),
        ("- a\n- b\n", "a SeldonDeployment must be a mapping, got list"),
        ("a: [\n", "not valid YAML or JSON"),
        ("---\na: 1\n---\nb: 2\n", "expected exactly one SeldonDeployment document, found 2"),
    ],
)
def test_bad_documents_are_clear_errors(doc, message):
    with pytest.raises(SdepError) as caught:
        parse(doc)
    assert message in str(caught.value)


def test_explicit_nulls_mean_unset():
    doc = minimal()
    doc["spec"]["predictors"][0]["annotations"] = None
    doc["spec"]["predictors"][0]["graph"]["children"] = None
    predictor = parse(doc).predictors[0]
    assert predictor.annotations is None and predictor.graph.children is None


def test_parse_predictor_for_the_engine():
    text = json.dumps(minimal()["spec"]["predictors"][0])
    predictor = parse_predictor(text)
    assert isinstance(predictor, PredictorSpec) and isinstance(predictor.graph, PredictiveUnit)
    assert predictor.to_dict() == json.loads(text)
    with pytest.raises(SdepError) as caught:
        parse_predictor({"name": "p", "graph": {"name": "a", "endpoint": {"sevice_host": "x"}}})
    assert caught.value.errors == ["graph.endpoint.sevice_host: unknown field"]


def test_shipped_schema_is_the_compacted_published_crd():
    crd = yaml.load(
        (SCHEMAS / "seldondeployments.machinelearning.seldon.io.yaml").read_text(),
        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader),
    )
    assert schema_gen.compact(crd) == structure.schema()


def test_a_live_object_with_status_loads():
    """Fields named like schema keywords (status.description) are fields, not documentation to drop."""
    live = minimal()
    live["status"] = {"state": "Available", "description": "all ready", "address": {"url": "http://x"}}
    assert parse(live).to_dict()["status"] == live["status"]
