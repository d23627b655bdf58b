"""The vendored published SeldonDeployments (tests/fixtures/seldon_examples) are the bytes the README names, and
`up` reads each as it is: a Namespace document beside them is skipped, every SeldonDeployment validates."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from seldon_graph.operator.local.client import read_manifests

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "seldon_examples"
DOCUMENTS = sorted(p.name for p in FOLDER.iterdir() if p.suffix in (".yaml", ".json"))


def test_every_vendored_file_has_the_sha256_its_readme_names():
    named = dict(
        (name, digest)
        for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", (FOLDER / "README.md").read_text(), re.M)
    )
    assert sorted(named) == DOCUMENTS
    for name, digest in named.items():
        assert hashlib.sha256((FOLDER / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("name", DOCUMENTS)
def test_up_reads_every_published_document_unchanged(name):
    manifests = read_manifests(FOLDER / name, "ambassador")
    assert manifests.deployments and not manifests.resources


def test_a_namespace_document_beside_the_deployment_is_skipped():
    [manifest] = read_manifests(FOLDER / "iter8-abtest.yaml", "ambassador").deployments
    assert (manifest.sdep.namespace, manifest.sdep.name) == ("ns-production", "iris")
