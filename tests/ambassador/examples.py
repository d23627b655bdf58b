"""The SeldonDeployments of operator-semantics §5 (examples A, B, C) and §6.5, defaulted by seldon_graph.sdep.

Tests render these as the operator would: parse, default, then hand the typed model to the ingress renderers.
"""

from __future__ import annotations

import yaml

from seldon_graph import sdep as sdep_model


def defaulted(text: str) -> sdep_model.SeldonDeployment:
    """The defaulted SeldonDeployment of a YAML document."""
    return sdep_model.default(sdep_model.parse(text), sdep_model.SdepSettings())


def seldon_deployment(
    name: str,
    predictors: list[dict],
    namespace: str = "seldon",
    spec_annotations: dict | None = None,
    annotations: dict | None = None,
) -> sdep_model.SeldonDeployment:
    """A defaulted SDep whose predictors each run one `classifier` container (extra keys per predictor kept)."""
    spec: dict = {"predictors": []}
    if spec_annotations:
        spec["annotations"] = spec_annotations
    for predictor in predictors:
        spec["predictors"].append(
            {
                **predictor,
                "componentSpecs": [
                    {"spec": {"containers": [{"name": "classifier", "image": "seldonio/mock_classifier:1.18.2"}]}}
                ],
                "graph": {"name": "classifier", "type": "MODEL"},
            }
        )
    metadata: dict = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = annotations
    doc = {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment", "metadata": metadata, "spec": spec}
    return defaulted(yaml.safe_dump(doc))


def canary(name: str = "example", main: int = 75, canary_traffic: int = 25, **kwargs) -> sdep_model.SeldonDeployment:
    """Example A: predictors main (75) and canary (25)."""
    return seldon_deployment(
        name, [{"name": "main", "traffic": main}, {"name": "canary", "traffic": canary_traffic}], **kwargs
    )


def shadow(name: str = "example", shadow_traffic: int = 100, **kwargs) -> sdep_model.SeldonDeployment:
    """Example B: predictor default plus a shadow predictor."""
    return seldon_deployment(
        name, [{"name": "default"}, {"name": "shadow", "shadow": True, "traffic": shadow_traffic}], **kwargs
    )


def single(name: str = "example", **kwargs) -> sdep_model.SeldonDeployment:
    return seldon_deployment(name, [{"name": "single"}], **kwargs)


def header_routed(header: str = "location:london", regex: str | None = None) -> sdep_model.SeldonDeployment:
    """Example C: `example-header` takes the requests to `example` that carry the header."""
    annotations = {"seldon.io/ambassador-service-name": "example"}
    if header:
        annotations["seldon.io/ambassador-header"] = header
    if regex:
        annotations["seldon.io/ambassador-regex-header"] = regex
    return single("example-header", spec_annotations=annotations)
