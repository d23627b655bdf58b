"""The URLs `up` prints and `status --json` records: the REST prediction path and the example body follow the
deployment's protocol (a V2 client calls /v2/models/<model>/infer, a TF client /v1/models/<model>:predict)."""

from __future__ import annotations

import json

import pytest

from seldon_graph.operator.local.client_urls import client_urls
from seldon_graph.sdep import parse


def deployment(protocol: str | None) -> dict:
    spec = {
        "predictors": [
            {"name": "shadowed", "shadow": True, "graph": {"name": "candidate", "type": "MODEL"}},
            {"name": "main", "graph": {"name": "classifier", "type": "MODEL"}},
        ]
    }
    if protocol:
        spec["protocol"] = protocol
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": "iris"},
        "spec": spec,
    }


@pytest.mark.parametrize(
    ("protocol", "path", "body_key"),
    [
        (None, "/api/v1.0/predictions", "data"),
        ("seldon", "/api/v1.0/predictions", "data"),
        ("v2", "/v2/models/classifier/infer", "inputs"),
        ("kfserving", "/v2/models/classifier/infer", "inputs"),
        ("tensorflow", "/v1/models/classifier:predict", "instances"),
    ],
)
def test_the_rest_url_and_example_follow_the_protocol(protocol, path, body_key):
    urls = client_urls(sdep=parse(deployment(protocol)), namespace="ns", external_name="iris", port=8003)
    assert urls["rest"] == f"http://127.0.0.1:8003/seldon/ns/iris{path}"
    assert body_key in json.loads(urls["example"])
    assert urls["grpc_metadata"] == {"seldon": "iris", "namespace": "ns"}
    assert "header" not in urls and "token" not in urls


def test_header_and_token_only_when_the_deployment_needs_them():
    urls = client_urls(sdep=None, namespace="ns", external_name="x", port=1, header="location:london", oauth=True)
    assert urls["header"] == "location:london"
    assert urls["token"] == "http://127.0.0.1:1/oauth/token"
    assert urls["rest"].endswith("/seldon/ns/x/api/v1.0/predictions")
