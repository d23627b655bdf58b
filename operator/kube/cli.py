"""`seldon-operator`: the SeldonDeployment controller on kopf, with the validating admission webhook.

Configuration comes from the original operator's environment variables (OperatorSettings.from_env); the flags
override the ones an operator Deployment usually sets per install (namespace, controller id, webhook, TLS).
SIGTERM stops the watches, lets running reconciles finish and then exits.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import kopf
import kubernetes

from seldon_graph.operator.kube import controller as ctl
from seldon_graph.operator.kube import webhook
from seldon_graph.operator.kube.api import KubeApi
from seldon_graph.operator.render.desired import desired_state
from seldon_graph.operator.render.settings import OperatorSettings


def build_parser(settings: OperatorSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seldon-operator", description=__doc__.splitlines()[0])
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--namespace",
        default=settings.watch_namespace or None,
        help="serve SeldonDeployments of this namespace only (env WATCH_NAMESPACE)",
    )
    scope.add_argument(
        "--all-namespaces", action="store_true", help="serve every namespace (the default when no namespace is given)"
    )
    parser.add_argument(
        "--controller-id",
        default=settings.controller_id,
        help="serve only SeldonDeployments labelled seldon.io/controller-id=<id> (env CONTROLLER_ID)",
    )
    parser.add_argument(
        "--kubeconfig",
        default=None,
        help="kubeconfig file (default: in-cluster service account, else $KUBECONFIG / ~/.kube/config)",
    )
    parser.add_argument("--webhook-host", default="0.0.0.0", help="address the admission webhook listens on")
    parser.add_argument(
        "--webhook-port",
        type=int,
        default=int(os.environ.get("WEBHOOK_PORT", "4443")),
        help="admission webhook port (env WEBHOOK_PORT; 0 disables the webhook)",
    )
    parser.add_argument(
        "--tls-cert-file",
        default=os.environ.get("TLS_CERT_FILE"),
        help="PEM certificate for the webhook (HTTPS); without it the webhook speaks plain HTTP",
    )
    parser.add_argument("--tls-key-file", default=os.environ.get("TLS_KEY_FILE"), help="PEM key for the webhook")
    parser.add_argument(
        "--liveness-endpoint", default=None, help="kopf liveness endpoint, e.g. http://0.0.0.0:8081/healthz"
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    return parser


def api_client(kubeconfig: str | None) -> kubernetes.client.ApiClient:
    """A client for the in-cluster service account, else for the kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube)."""
    configuration = kubernetes.client.Configuration()
    if kubeconfig or "KUBERNETES_SERVICE_HOST" not in os.environ:
        kubernetes.config.load_kube_config(
            config_file=kubeconfig or os.environ.get("KUBECONFIG"), client_configuration=configuration
        )
    else:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    return kubernetes.client.ApiClient(configuration)


def login_handler(configuration: kubernetes.client.Configuration) -> Callable[..., kopf.ConnectionInfo]:
    """A kopf login handler that hands kopf the kubernetes client's own connection settings, so the watches and
    the applies use the same cluster, credentials and CA (and a refreshed service-account token)."""

    def login(**_: Any) -> kopf.ConnectionInfo:
        header = (
            configuration.get_api_key_with_prefix("BearerToken")
            or configuration.get_api_key_with_prefix("authorization")
            or ""
        )
        scheme, _space, token = header.rpartition(" ")
        return kopf.ConnectionInfo(
            server=configuration.host,
            ca_path=configuration.ssl_ca_cert,
            insecure=not configuration.verify_ssl,
            username=configuration.username or None,
            password=configuration.password or None,
            scheme=scheme or None,
            token=token or None,
            certificate_path=configuration.cert_file,
            private_key_path=configuration.key_file,
        )

    return login


def kopf_settings() -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()
    settings.posting.enabled = False  # the controller posts its own Events, as the original does
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.networking.request_timeout = 60
    return settings


def register_webhook(registry: kopf.OperatorRegistry, args: argparse.Namespace, settings: OperatorSettings) -> None:
    """Run the webhook server inside the operator's event loop for the operator's lifetime."""
    tls = webhook.ssl_context(args.tls_cert_file, args.tls_key_file)
    runners: list[Any] = []

    async def start_webhook(logger: kopf.Logger, **_: Any) -> None:
        try:
            runners.append(
                await webhook.start(webhook.make_app(settings.sdep), args.webhook_host, args.webhook_port, tls)
            )
        except OSError as exc:  # e.g. the port is taken: no point in retrying, stop the operator
            raise kopf.PermanentError(f"cannot serve the admission webhook on port {args.webhook_port}: {exc}") from exc
        logger.info(
            "admission webhook on %s://%s:%d%s",
            "https" if tls else "http",
            args.webhook_host,
            args.webhook_port,
            webhook.WEBHOOK_PATH,
        )

    async def stop_webhook(**_: Any) -> None:
        for runner in runners:
            await runner.cleanup()

    kopf.on.startup(id="webhook", registry=registry)(start_webhook)
    kopf.on.cleanup(id="webhook", registry=registry)(stop_webhook)


def main(argv: list[str] | None = None) -> int:
    settings = OperatorSettings.from_env(os.environ)
    args = build_parser(settings).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not args.verbose:  # kopf logs every handler run at INFO; the controller logs what matters itself
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    try:
        client = api_client(args.kubeconfig)
    except (kubernetes.config.ConfigException, OSError) as exc:
        print(f"seldon-operator: cannot configure the Kubernetes client: {exc}", file=sys.stderr)
        return 2
    cluster_wide = args.all_namespaces or not args.namespace
    controller = ctl.Controller(
        KubeApi(client),
        lambda loaded: desired_state(loaded, settings),
        settings.sdep,
        ctl.Selection(controller_id=args.controller_id or "", cluster_wide=cluster_wide),
    )
    registry = kopf.OperatorRegistry()
    kopf.on.login(id="login", registry=registry)(login_handler(client.configuration))
    ctl.register(registry, controller)
    if args.webhook_port:
        try:
            register_webhook(registry, args, settings)
        except (ValueError, OSError) as exc:
            print(f"seldon-operator: {exc}", file=sys.stderr)
            return 2
    try:
        kopf.run(
            registry=registry,
            settings=kopf_settings(),
            standalone=True,
            clusterwide=cluster_wide,
            namespaces=() if cluster_wide else [args.namespace],
            liveness_endpoint=args.liveness_endpoint,
        )
    except Exception as exc:  # kopf has logged the details (e.g. the API server stayed unreachable)
        print(f"seldon-operator: stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        controller.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
