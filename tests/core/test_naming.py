"""Object names against the test vectors of the Seldon v1 operator (operator-semantics §4.1)."""

from seldon_graph import naming

LONG = "seldon-model-1234567890-1234567890-1234567890-1234567890-1234567890"


def test_short_names_verbatim():
    assert naming.seldon_id("iris") == "iris"
    assert naming.predictor_service_name("iris", {"name": "main"}) == "iris-main"
    spec = {"spec": {"containers": [{"name": "classifier"}]}}
    assert naming.deployment_name("iris", "main", 0, spec) == "iris-main-0-classifier"
    assert naming.deployment_name("iris", "main", 1, {"metadata": {"name": "custom"}}) == "iris-main-1-custom"
    assert naming.container_service_name("iris", "main", "classifier") == "iris-main-classifier"
    assert naming.svc_orch_name("iris", "main") == "iris-main-svc-orch"


def test_svc_name_annotation_wins():
    predictor = {"name": "main", "annotations": {"seldon.io/svc-name": "my-svc"}}
    assert naming.predictor_service_name("iris", predictor) == "my-svc"


def test_md5_vectors():
    candidate = "s-C12345678912345678901234567890123456789012345678901234567890-0-m"
    assert naming.fit(candidate) == "seldon-10eb0f02cdc303e74043e57c1d8147ab"
    spec = {"metadata": {"name": "m"}}
    name = "C12345678912345678901234567890123456789012345678901234567890"
    assert naming.deployment_name("s", name, 0, spec, as_prefix=True) == "s-10eb0f02cdc303e74043e57c1d8147ab"


def test_long_sdep_name():
    assert naming.seldon_id(LONG) == "seldon-83a2ff7bfcb4fd45246a1b2c4ef40961"
    spec = {"spec": {"containers": [{"name": "classifier"}]}}
    assert naming.deployment_name(LONG, "p1", 0, spec) == "seldon-5fdf818e3b842e9129a341471ed46232"
    assert naming.container_service_name(LONG, "p1", "classifier") == "seldon-1b3aa4899999fbb66914187a059490d0"
    assert naming.predictor_service_name(LONG, {"name": "p1"}) == "seldon-587bb9225779dd0ae9335ad02964c78e"
