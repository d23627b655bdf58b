"""Property tests of the engine's REST front: random and malformed requests on every path, split across reads, with
random bodies, headers and encodings, never get a 5xx, never hang, and the engine keeps serving."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.engine.conftest import engine_running, node, predictor
from tests.support.fuzz import BOUNDED, assert_served_without_5xx, requests_on, split
from tests.wrappers.conftest import running_unit

pytestmark = pytest.mark.e2e
PATHS = [
    "/api/v0.1/predictions",
    "/api/v1.0/predictions",
    "/api/v0.1/feedback",
    "/api/v1.0/feedback",
    "/api/v1.0/metadata",
    "/api/v1.0/metadata/raw",
    "/api/v1.0/metadata/nobody",
    "/api/v1.0/status/raw",
    "/api/v0.1/status/raw",
    "/ready",
    "/live",
    "/ping",
    "/metrics",
    "/api/v1.0/health/status",
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """An engine whose one node is our wrapper serving RawModel, which answers any message it is given."""
    workdir = tmp_path_factory.mktemp("engine-fuzz")
    with running_unit(workdir, "RawModel") as unit:
        endpoint = {"service_host": "127.0.0.1", "type": "REST", "httpPort": unit.http_port}
        spec = predictor(node("raw", None, endpoint=endpoint))
        with engine_running(spec, workdir) as started:
            yield started


@BOUNDED
@given(data=st.data())
def test_random_requests_on_every_path(engine, data):
    raw, _ = data.draw(requests_on(PATHS))
    assert_served_without_5xx(engine.http_port, data.draw(split(raw)), "/live")
