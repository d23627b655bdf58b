"""The shipped SeldonDeployment CRD: equivalent to the published one, plus printer columns for state and address."""

import jsonschema
import pytest
import yaml

from seldon_graph.operator.crd import CRD_PATH, crd
from seldon_graph.operator.render.crd import render_crd, strip_descriptions
from tests.support.schemas import SCHEMAS

PUBLISHED_PATH = SCHEMAS / "seldondeployments.machinelearning.seldon.io.yaml"
EXAMPLE = SCHEMAS / "examples" / "seldondeployment.yaml"


@pytest.fixture(scope="module")
def published():
    return yaml.load(PUBLISHED_PATH.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@pytest.fixture(scope="module")
def shipped():
    return crd()


def test_shipped_file_is_the_rendering_of_the_published_crd(published, shipped):
    assert shipped == render_crd(published)


def test_identity_and_versions_match(published, shipped):
    assert shipped["metadata"]["name"] == "seldondeployments.machinelearning.seldon.io"
    for key in ("group", "names", "scope"):
        assert shipped["spec"][key] == published["spec"][key]
    pairs = zip(shipped["spec"]["versions"], published["spec"]["versions"])
    for ours, theirs in pairs:
        assert (ours["name"], ours["served"], ours["storage"]) == (theirs["name"], theirs["served"], theirs["storage"])
        assert (
            ours["subresources"]
            == theirs["subresources"]
            == {"scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}, "status": {}}
        )
        assert ours["schema"]["openAPIV3Schema"] == strip_descriptions(theirs["schema"]["openAPIV3Schema"])
    assert [v["name"] for v in shipped["spec"]["versions"]] == ["v1", "v1alpha2", "v1alpha3"]


def test_printer_columns_for_state_and_address(shipped):
    for version in shipped["spec"]["versions"]:
        columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
        assert columns == {
            "State": ".status.state",
            "Address": ".status.address.url",
            "Age": ".metadata.creationTimestamp",
        }


def test_a_property_named_description_survives_stripping():
    schema = {
        "type": "object",
        "description": "x",
        "properties": {"description": {"type": "string", "description": "y"}},
    }
    assert strip_descriptions(schema) == {"type": "object", "properties": {"description": {"type": "string"}}}


def test_published_example_validates_against_the_shipped_schema(shipped):
    example = yaml.safe_load(EXAMPLE.read_text())
    schema = shipped["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    jsonschema.Draft4Validator(schema).validate(example)
    broken = {**example, "spec": {**example["spec"], "replicas": "two"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(broken)


def test_crd_file_has_no_yaml_aliases():
    assert "&id0" not in CRD_PATH.read_text()
