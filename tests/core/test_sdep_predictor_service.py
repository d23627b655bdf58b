"""What the ingress renderers read from the typed SeldonDeployment: annotations, the ownerReference, explainer
presence, and the predictor Service's name and ports."""

from seldon_graph.sdep import SdepSettings, default, parse
from seldon_graph.sdep.predictor_service import ServicePorts, service_name, service_ports

ENGINE = ServicePorts(http=8000, grpc=5001)


def sdep(predictor_extra: str = "", metadata_extra: str = "", spec_extra: str = ""):
    return default(
        parse(f"""
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {{name: iris, namespace: seldon{metadata_extra}}}
spec:
  {spec_extra}
  predictors:
  - name: main
    {predictor_extra}
    componentSpecs: [{{spec: {{containers: [{{name: classifier, image: seldonio/mock_classifier:1.18.2}}]}}}}]
    graph: {{name: classifier, type: MODEL}}
"""),
        SdepSettings(),
    )


def test_spec_annotations_win_and_metadata_values_are_read_as_text():
    model = sdep(
        metadata_extra=", annotations: {seldon.io/rest-timeout: 222, seldon.io/grpc-timeout: 5}",
        spec_extra='annotations: {seldon.io/rest-timeout: "111"}',
    )
    assert model.annotation("seldon.io/rest-timeout") == "111"
    assert model.annotation("seldon.io/grpc-timeout") == "5"
    assert model.annotation("seldon.io/absent", "fallback") == "fallback"
    assert sdep().annotation("seldon.io/absent") is None


def test_owner_reference_includes_the_uid_only_when_known():
    assert sdep().owner_reference() == {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "name": "iris",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert sdep(metadata_extra=", uid: abc").owner_reference()["uid"] == "abc"


def test_explainer_needs_a_type():
    assert not sdep().predictors[0].has_explainer()
    assert sdep("explainer: {type: AnchorTabular}").predictors[0].has_explainer()


def test_service_name_and_ports():
    model = sdep()
    (predictor,) = model.predictors
    assert service_name(model, predictor) == "iris-main"
    assert service_ports(predictor, ENGINE) == ENGINE
    renamed = sdep('annotations: {seldon.io/svc-name: custom, seldon.io/no-engine: "TRUE"}')
    (predictor,) = renamed.predictors
    assert service_name(renamed, predictor) == "custom"
    assert service_ports(predictor, ENGINE) == ServicePorts(http=9000, grpc=9500)
