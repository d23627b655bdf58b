"""The schema checker itself: the shared examples pass, and a typo'd field is rejected."""

import copy
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.support.schemas import SCHEMAS, validate

EXAMPLES = sorted((SCHEMAS / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: Path(p).name)
def test_published_examples_validate(path):
    for obj in yaml.safe_load_all(path.read_text()):
        validate(obj)


def test_unknown_field_rejected():
    obj = yaml.safe_load((SCHEMAS / "examples" / "service.yaml").read_text())
    bad = copy.deepcopy(obj)
    bad["spec"]["portz"] = []
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)
