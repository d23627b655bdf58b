"""Build the compact structural schema of a SeldonDeployment from the published CRD.

The published CRD (tests/schemas/seldondeployments.machinelearning.seldon.io.yaml) is 2.5 MB, mostly
descriptions and ten hand-expanded levels of `graph.children`. `schema.json` keeps only what the loader needs
to reject unknown fields and wrong types: descriptions go, and the graph node becomes one recursive
definition (`{"$ref": "PredictiveUnit"}`), so graphs of any depth are checked.

Run: python -m seldon_graph.sdep.schema_gen PUBLISHED_CRD.yaml > core/sdep/schema.json
"""

from __future__ import annotations

import json
import sys

import yaml

DROP_KEYS = ("description",)
FIELD_MAPS = ("properties", "patternProperties")


def _strip(node):
    """`node` without documentation keywords; a field that is itself named `description` stays."""
    if isinstance(node, dict):
        return {
            key: _strip_fields(value) if key in FIELD_MAPS else _strip(value)
            for key, value in node.items()
            if key not in DROP_KEYS
        }
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


def _strip_fields(fields: dict) -> dict:
    return {name: _strip(schema) for name, schema in fields.items()}


def compact(crd: dict, version: str = "v1") -> dict:
    """The openAPIV3Schema of `version` without descriptions, with recursive PredictiveUnit/PredictorSpec refs."""
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    root = _strip(served["schema"]["openAPIV3Schema"])
    predictors = root["properties"]["spec"]["properties"]["predictors"]
    predictor = predictors["items"]
    unit = predictor["properties"]["graph"]
    unit["properties"]["children"] = {"type": "array", "items": {"$ref": "PredictiveUnit"}}
    predictor["properties"]["graph"] = {"$ref": "PredictiveUnit"}
    predictors["items"] = {"$ref": "PredictorSpec"}
    return {"definitions": {"PredictiveUnit": unit, "PredictorSpec": predictor}, "root": root}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0], encoding="utf-8") as handle:
        crd = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    sys.stdout.write(json.dumps(compact(crd), sort_keys=True, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
