"""The validating admission webhook for SeldonDeployments (AdmissionReview v1 and v1beta1).

It runs the same checks as the controller (`spec_errors`: load the object, then every validation rule), so a
SeldonDeployment the controller would mark Failed is refused at `kubectl apply` time with the same messages.
Served over HTTPS when a certificate and key are given (the API server only calls webhooks over TLS), plain HTTP
otherwise (tests, or behind a TLS-terminating proxy).
"""

from __future__ import annotations

import json
import ssl

from aiohttp import web

from seldon_graph import errors, sdep
from seldon_graph.sdep import SdepSettings

WEBHOOK_PATH = "/validate-machinelearning-seldon-io-v1-seldondeployment"
GROUP_KIND = "SeldonDeployment.machinelearning.seldon.io"
# An AdmissionReview carries the object and, on update, the old one; etcd allows objects up to 1.5 MiB.
MAX_REVIEW_BYTES = 8 * 1024 * 1024


def spec_errors(obj: dict, settings: SdepSettings | None = None) -> list[str]:
    """Every problem of a SeldonDeployment object as written (not defaulted); empty when it is valid."""
    body = {k: v for k, v in obj.items() if k != "status"}
    try:
        loaded = sdep.parse(body)
    except sdep.SdepError as exc:
        return exc.errors
    return sdep.validate(loaded, settings)


def review_response(review: dict, settings: SdepSettings | None = None) -> dict:
    """The AdmissionReview answering `review`: allowed, or denied with a 422 Invalid status listing the causes."""
    request = review["request"]
    answer: dict = {"uid": request["uid"], "allowed": True}
    obj = request.get("object")
    if request.get("operation", "CREATE") in ("CREATE", "UPDATE") and isinstance(obj, dict):
        problems = spec_errors(obj, settings)
        if problems:
            name = (obj.get("metadata") or {}).get("name") or request.get("name") or ""
            answer["allowed"] = False
            answer["status"] = {
                "code": 422,
                "reason": "Invalid",
                "status": "Failure",
                "message": f'{GROUP_KIND} "{name}" is invalid: {"; ".join(problems)}',
                "details": {
                    "name": name,
                    "group": "machinelearning.seldon.io",
                    "kind": "SeldonDeployment",
                    "causes": [{"message": p} for p in problems],
                },
            }
    return {
        "apiVersion": review.get("apiVersion", "admission.k8s.io/v1"),
        "kind": "AdmissionReview",
        "response": answer,
    }


def _bad_request(info: str) -> web.Response:
    return web.json_response(errors.status_body(info, errors.BAD_DATA), status=400)


def make_app(settings: SdepSettings | None = None) -> web.Application:
    """The webhook's HTTP app: the validation path plus /healthz and /readyz for probes."""

    async def validate(request: web.Request) -> web.Response:
        try:
            review = json.loads(await request.read())
        except ValueError as exc:
            return _bad_request(f"the body is not JSON: {exc}")
        if not isinstance(review, dict) or review.get("kind") != "AdmissionReview":
            return _bad_request("the body must be an AdmissionReview object")
        request_part = review.get("request")
        if not isinstance(request_part, dict) or not isinstance(request_part.get("uid"), str):
            return _bad_request("the AdmissionReview has no request with a uid")
        return web.json_response(review_response(review, settings))

    async def healthy(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=MAX_REVIEW_BYTES)
    app.router.add_post(WEBHOOK_PATH, validate)
    app.router.add_get("/healthz", healthy)
    app.router.add_get("/readyz", healthy)
    return app


def ssl_context(cert_file: str | None, key_file: str | None) -> ssl.SSLContext | None:
    """A server TLS context from PEM files, or None (plain HTTP) when neither is given."""
    if not cert_file and not key_file:
        return None
    if not (cert_file and key_file):
        raise ValueError("both --tls-cert-file and --tls-key-file are needed to serve the webhook over TLS")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


async def start(app: web.Application, host: str, port: int, tls: ssl.SSLContext | None) -> web.AppRunner:
    """Serve `app` on host:port until the returned runner is cleaned up."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=tls).start()
    return runner
