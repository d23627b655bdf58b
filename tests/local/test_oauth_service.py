"""The OAuth token service as a real process: client-credentials tokens and the check Envoy's ext_authz calls."""

import json
import sys

import pytest
import requests

from seldon_graph.operator.local.oauth import Client, clients_document
from tests.support.procs import free_port, running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def token_service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oauth")
    clients = folder / "clients.json"
    clients.write_text(
        json.dumps(
            clients_document(
                [Client("key1", "secret1", "seldon", "protected"), Client("key2", "secret2", "seldon", "other")]
            )
        )
    )
    port = free_port()
    argv = [sys.executable, "-m", "seldon_graph.operator.local.oauth", "--port", str(port), "--clients", str(clients)]
    with running(argv, folder / "oauth.log", ready_url=f"http://127.0.0.1:{port}/ready"):
        yield f"http://127.0.0.1:{port}"


def token(base, key, secret):
    return requests.post(f"{base}/oauth/token", auth=(key, secret), data={"grant_type": "client_credentials"})


def test_client_credentials_give_a_bearer_token(token_service):
    response = token(token_service, "key1", "secret1")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0 and len(body["access_token"]) == 32


def test_form_credentials_are_accepted_too(token_service):
    response = requests.post(
        f"{token_service}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "key1", "client_secret": "secret1"},
    )
    assert response.status_code == 200


def test_a_secret_sent_as_a_file_is_missing_credentials_not_a_crash(token_service):
    response = requests.post(
        f"{token_service}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "key1"},
        files={"client_secret": ("secret.txt", b"secret1")},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "HTTP Basic" in response.json()["status"]["info"]


def test_bad_secret_is_rejected_with_a_status_body(token_service):
    response = token(token_service, "key1", "wrong")
    assert response.status_code == 401
    assert response.json()["status"] == {
        "code": -1,
        "info": "bad oauth_key or oauth_secret",
        "reason": "UNAUTHORIZED",
        "status": 1,
    }


def test_wrong_grant_type_is_a_400(token_service):
    response = requests.post(f"{token_service}/oauth/token", auth=("key1", "secret1"), data={"grant_type": "password"})
    assert response.status_code == 400
    assert "client_credentials" in response.json()["status"]["info"]


def test_check_protects_only_deployments_with_oauth(token_service):
    check = f"{token_service}/check/seldon/seldon"
    assert requests.post(f"{check}/open/api/v1.0/predictions").status_code == 200
    denied = requests.post(f"{check}/protected/api/v1.0/predictions")
    assert denied.status_code == 401
    assert denied.text == "this deployment requires an OAuth bearer token: get one from POST /oauth/token"
    assert denied.headers["WWW-Authenticate"].startswith("Bearer")


def test_check_accepts_bearer_and_seldon_client_token_headers(token_service):
    value = token(token_service, "key1", "secret1").json()["access_token"]
    check = f"{token_service}/check/seldon/seldon/protected/api/v1.0/predictions"
    assert requests.post(check, headers={"Authorization": f"Bearer {value}"}).status_code == 200
    assert requests.post(check, headers={"X-Auth-Token": value}).status_code == 200
    assert requests.post(check, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_token_only_opens_its_own_deployment(token_service):
    value = token(token_service, "key2", "secret2").json()["access_token"]
    check = f"{token_service}/check/seldon/seldon/protected/api/v1.0/predictions"
    assert requests.post(check, headers={"Authorization": f"Bearer {value}"}).status_code == 401


def test_grpc_requests_are_matched_by_their_metadata(token_service):
    check = f"{token_service}/check/seldon.protos.Seldon/Predict"
    assert requests.post(check, headers={"seldon": "protected", "namespace": "seldon"}).status_code == 401
    assert requests.post(check, headers={"seldon": "open", "namespace": "seldon"}).status_code == 200
