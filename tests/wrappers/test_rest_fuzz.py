"""Property tests of the wrapper's REST side: random and malformed requests on every microservice path, split across
reads, with random bodies, headers and encodings, never get a 5xx, never hang, and the unit keeps serving."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seldon_graph.wrappers.rest import ROUTES
from tests.support.fuzz import BOUNDED, assert_served_without_5xx, requests_on, split
from tests.wrappers.conftest import running_unit

pytestmark = pytest.mark.e2e
PATHS = sorted(ROUTES)


@pytest.fixture(scope="module", params=["Identity", "RawModel"])
def unit(request, tmp_path_factory):
    with running_unit(tmp_path_factory.mktemp("fuzz"), request.param, grpc=False) as started:
        yield started


@BOUNDED
@given(data=st.data())
def test_random_requests_on_every_path(unit, data):
    raw, _ = data.draw(requests_on(PATHS))
    assert_served_without_5xx(unit.http_port, data.draw(split(raw)), "/live")
