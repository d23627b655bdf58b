"""Request smuggling through the local ingress: Envoy in front of an engine on llhttp. Whatever Envoy does with an
ambiguous request (refuse it, or forward it re-framed), no request hidden in a body is ever answered, to the
attacker or to the next client."""

from __future__ import annotations

import pytest
import requests

from tests.local.conftest import EXAMPLES
from tests.support.http_servers import answers, send_raw
from tests.support.smuggling import attacks

pytestmark = pytest.mark.e2e
PATH = b"/seldon/seldon/single-model/api/v1.0/predictions"
HIDDEN = b"GET /seldon/seldon/single-model/api/v1.0/metadata/classifier HTTP/1.1\r\nHost: x\r\n\r\n"
ATTACKS = attacks(PATH, HIDDEN)


@pytest.fixture(scope="module")
def ingress(local):
    local.up(EXAMPLES / "single-model.yaml")
    return local


def predict(local) -> requests.Response:
    return requests.post(local.base + PATH.decode(), json={"data": {"ndarray": [[1.0, 2.0]]}}, timeout=10)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_hidden_request_is_never_answered(ingress, name):
    found = answers(send_raw(ingress.port, [ATTACKS[name]], timeout=15, idle=1.0))
    assert len(found.codes) <= 1, (found.codes, found.bodies)
    assert not any(b'"versions"' in body or b"classifier" in body and b"inputs" in body for body in found.bodies)
    for _ in range(3):
        after = predict(ingress)
        assert after.status_code == 200 and after.json()["data"]["ndarray"] == [[2.0, 4.0]], after.text
