"""The local OAuth token service: client-credentials tokens for SeldonDeployments that set oauth_key/oauth_secret,
and the check Envoy's ext_authz filter calls before every ingress request.

POST /oauth/token     HTTP Basic key:secret (or form client_id/client_secret), grant_type=client_credentials
                      → {"access_token", "token_type": "bearer", "expires_in", "scope"}
ANY  /check/<path>    200 when <path> is not a protected deployment or carries a valid token for it
                      (`Authorization: Bearer <t>` or SeldonClient's `X-Auth-Token: <t>`), else 401 with the
                      reason as plain text (Envoy turns it into a Seldon status body).

Protected deployments and their credentials come from a JSON file the supervisor rewrites; it is re-read when
it changes. Run: python -m seldon_graph.operator.local.oauth --port P --clients FILE
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from seldon_graph.errors import status_body

TOKEN_TTL = 43199
CHECK_PREFIX = "/check"
UNAUTHORIZED = "UNAUTHORIZED"


@dataclass(frozen=True)
class Client:
    key: str
    secret: str
    namespace: str
    name: str


def clients_document(clients: list[Client]) -> dict:
    return {"clients": [c.__dict__ for c in clients]}


class Clients:
    """The protected deployments, re-read from `path` when its modification time changes."""

    def __init__(self, path: Path):
        self.path = path
        self.mtime = -1.0
        self.clients: list[Client] = []

    def current(self) -> list[Client]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return []
        if mtime != self.mtime:
            document = json.loads(self.path.read_text())
            self.clients = [Client(**c) for c in document.get("clients", [])]
            self.mtime = mtime
        return self.clients

    def by_key(self, key: str) -> list[Client]:
        return [c for c in self.current() if c.key == key]

    def protecting(self, path: str, headers: Mapping[str, str]) -> list[Client]:
        """The clients whose deployment this request addresses (REST path or gRPC seldon/namespace headers)."""
        found = []
        for client in self.current():
            if path.startswith(f"/seldon/{client.namespace}/{client.name}/") or (
                headers.get("seldon") == client.name and headers.get("namespace", client.namespace) == client.namespace
            ):
                found.append(client)
        return found


def _deny(info: str, status: int = 401, error: str = "invalid_token") -> web.Response:
    body = {"error": error, "error_description": info, **status_body(info, UNAUTHORIZED)}
    return web.json_response(body, status=status, headers={"WWW-Authenticate": f'Bearer error="{error}"'})


def _credentials(request: web.Request, form: Mapping[str, object]) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            key, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return key, secret
    client_id, client_secret = form.get("client_id"), form.get("client_secret", "")
    if client_id and isinstance(client_id, str) and isinstance(client_secret, str):
        return client_id, client_secret
    return None


def _bearer(headers: Mapping[str, str]) -> str | None:
    header = headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return headers.get("X-Auth-Token") or None


def make_app(clients: Clients) -> web.Application:
    tokens: dict[str, tuple[str, float]] = {}

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return _deny("grant_type must be client_credentials", 400, "unsupported_grant_type")
        credentials = _credentials(request, form)
        if credentials is None:
            return _deny("send the deployment's oauth_key and oauth_secret as HTTP Basic auth", 401, "invalid_client")
        key, secret = credentials
        if not any(secrets.compare_digest(c.secret, secret) for c in clients.by_key(key)):
            return _deny("bad oauth_key or oauth_secret", 401, "invalid_client")
        value = secrets.token_hex(16)
        tokens[value] = (key, time.time() + TOKEN_TTL)
        return web.json_response(
            {"access_token": value, "token_type": "bearer", "expires_in": TOKEN_TTL, "scope": "read write"}
        )

    def refuse(info: str) -> web.Response:
        """Plain text: Envoy wraps it into the Seldon status body of its 401 local reply (oauth_envoy)."""
        return web.Response(status=401, text=info, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    async def check(request: web.Request) -> web.Response:
        path = request.path[len(CHECK_PREFIX) :] or "/"
        protecting = clients.protecting(path, request.headers)
        if not protecting:
            return web.Response(status=200)
        value = _bearer(request.headers)
        if value is None:
            return refuse("this deployment requires an OAuth bearer token: get one from POST /oauth/token")
        key, expires = tokens.get(value, ("", 0.0))
        if expires < time.time() or key not in {c.key for c in protecting}:
            return refuse("invalid or expired OAuth token for this deployment")
        return web.Response(status=200)

    async def ready(_: web.Request) -> web.Response:
        return web.Response(text="ready")

    app = web.Application()
    app.router.add_post("/oauth/token", token)
    app.router.add_get("/ready", ready)
    app.router.add_route("*", CHECK_PREFIX + "{tail:.*}", check)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=Path, required=True)
    args = parser.parse_args(argv)
    web.run_app(make_app(Clients(args.clients)), host="127.0.0.1", port=args.port, print=None, shutdown_timeout=5)


if __name__ == "__main__":
    main()
