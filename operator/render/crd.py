"""Build the shipped SeldonDeployment CRD (operator/crd/seldondeployments.yaml) from the published one.

Same group, names, scope, versions, subresources and structural schema as the published CRD; descriptions
are dropped (they are most of its 2.5 MB) and printer columns for state and address are added. Like the
original's, the CRD is too large for client-side `kubectl apply`: install it with `kubectl apply
--server-side` or `kubectl create`.

Run: python -m seldon_graph.operator.render.crd PUBLISHED_CRD.yaml > operator/crd/seldondeployments.yaml
"""

from __future__ import annotations

import copy
import sys

import yaml

PRINTER_COLUMNS = [
    {"name": "State", "type": "string", "jsonPath": ".status.state", "description": "Creating, Available or Failed"},
    {
        "name": "Address",
        "type": "string",
        "jsonPath": ".status.address.url",
        "description": "In-cluster URL of the default predictor",
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def strip_descriptions(node):
    """The schema without `description` keys (a property *named* description is kept)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out[key] = {name: strip_descriptions(child) for name, child in value.items()}
            elif key != "description":
                out[key] = strip_descriptions(value)
        return out
    if isinstance(node, list):
        return [strip_descriptions(item) for item in node]
    return node


def render_crd(published: dict) -> dict:
    """The shipped CRD for `published` (pure)."""
    spec = published["spec"]
    versions = []
    for version in spec["versions"]:
        versions.append(
            {
                "name": version["name"],
                "served": version["served"],
                "storage": version["storage"],
                "additionalPrinterColumns": copy.deepcopy(PRINTER_COLUMNS),
                "schema": {"openAPIV3Schema": strip_descriptions(version["schema"]["openAPIV3Schema"])},
                "subresources": version["subresources"],
            }
        )
    return {
        "apiVersion": published["apiVersion"],
        "kind": "CustomResourceDefinition",
        "metadata": {"name": published["metadata"]["name"], "labels": {"app.kubernetes.io/name": "seldon-graph"}},
        "spec": {"group": spec["group"], "names": spec["names"], "scope": spec["scope"], "versions": versions},
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0], encoding="utf-8") as handle:
        published = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    sys.stdout.write(yaml.dump(render_crd(published), Dumper=dumper, sort_keys=False, width=1 << 16))
    return 0


if __name__ == "__main__":
    sys.exit(main())
