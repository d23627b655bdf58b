"""The operator's deploy manifests (operator/config/) and Helm chart (operator/helm/seldon-graph-operator/).

`helm` is not installed here, Debian (bookworm) has no helm package, and the PyPI packages around Helm either
need the binary or do not install on this Python; so the chart is designed to need no Go-template logic: its
templates use only `{{ .Values.<path> }}` and `{{ .Release.Namespace }}` substitutions, which `render_chart`
below fills in exactly as `helm template` would (a test fails if any other template syntax creeps in). The
rendered chart with default values must be the same objects as operator/config/, the Deployment and Services are
validated with tests/support/schemas.py, and the wiring is checked against the code: the container's args are
parsed by the real `seldon-operator` parser, its env by OperatorSettings.from_env, RBAC against every kind the
renderer emits, the webhook path against the webhook server. (The end-to-end operators in
test_controller_kopf.py also run with only the shipped ClusterRole.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from seldon_graph.operator.kube import cli, webhook
from seldon_graph.operator.kube.api import PLURALS
from seldon_graph.operator.render.settings import OperatorSettings
from tests.support import schemas

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "operator" / "helm" / "seldon-graph-operator"
CONFIG = ROOT / "operator" / "config"
CRD = ROOT / "operator" / "crd" / "seldondeployments.yaml"
PLACEHOLDER = re.compile(r"\{\{\s*\.(Values|Release)\.([A-Za-z0-9_.]+)\s*\}\}")
RENDERED_KINDS = {  # (API group, kind) of everything desired_state can produce
    ("apps", "Deployment"),
    ("", "Service"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
    ("keda.sh", "ScaledObject"),
    ("getambassador.io", "Mapping"),
    ("getambassador.io", "TLSContext"),
    ("networking.istio.io", "VirtualService"),
    ("networking.istio.io", "DestinationRule"),
}


def _lookup(values: dict, path: str):
    node = values
    for part in path.split("."):
        node = node[part]
    return node


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)) or value is None:
        raise TypeError(f"only scalars can be substituted, got {value!r}")
    return str(value)


def render_chart(overrides: dict | None = None, namespace: str = "seldon-system") -> list[dict]:
    """`helm template --namespace <namespace>` of the chart, for templates that only substitute scalars."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for path, value in (overrides or {}).items():
        *parents, leaf = path.split(".")
        node = values
        for part in parents:
            node = node[part]
        node[leaf] = value
    release = {"Namespace": namespace, "Name": "seldon-graph"}
    objects = []
    for template in sorted((CHART / "templates").glob("*.yaml")):
        text = PLACEHOLDER.sub(
            lambda m: _scalar(_lookup(values if m[1] == "Values" else release, m[2])), template.read_text()
        )
        assert "{{" not in text, f"{template.name} uses template syntax beyond plain substitutions"
        objects += [doc for doc in yaml.safe_load_all(text) if doc]
    return objects


def config_objects() -> list[dict]:
    objects = []
    for path in sorted(CONFIG.rglob("*.yaml")):
        if path.name != "kustomization.yaml" and path.parent.name != "crd":
            objects += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return objects


def by_kind(objects: list[dict]) -> dict[tuple[str, str], dict]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


@pytest.fixture(scope="module")
def chart():
    return by_kind(render_chart())


@pytest.fixture(scope="module")
def manager(chart):
    return chart[("Deployment", "seldon-graph-operator")]


def test_chart_with_default_values_is_the_config_manifests(chart):
    config = by_kind(config_objects())
    namespace = config.pop(("Namespace", "seldon-system"))
    assert namespace["apiVersion"] == "v1"
    assert chart == config


def test_crd_copies_are_the_shipped_crd():
    shipped = CRD.read_bytes()
    for copy in (CONFIG / "crd" / "seldondeployments.yaml", CHART / "crds" / "seldondeployments.yaml"):
        assert copy.read_bytes() == shipped, f"{copy} is stale: copy {CRD} over it"


def test_kustomization_lists_every_manifest():
    listed = yaml.safe_load((CONFIG / "kustomization.yaml").read_text())["resources"]
    present = sorted(p.relative_to(CONFIG).as_posix() for p in CONFIG.rglob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == present


def test_chart_metadata():
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2" and meta["name"] == CHART.name
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["version"])


def test_deployment_and_services_match_the_published_schemas(chart):
    for (kind, _), obj in chart.items():
        if kind in ("Deployment", "Service"):
            schemas.validate(obj)


def test_release_namespace_is_used_everywhere():
    objects = render_chart(namespace="ml-ops")
    for obj in objects:
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration"):
            assert obj["metadata"]["namespace"] == "ml-ops", obj["kind"]
    found = by_kind(objects)
    hook = next(o for (k, _), o in found.items() if k == "ValidatingWebhookConfiguration")
    assert hook["webhooks"][0]["clientConfig"]["service"]["namespace"] == "ml-ops"
    assert hook["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == "ml-ops/seldon-graph-serving-cert"
    binding = found[("ClusterRoleBinding", "seldon-graph-operator")]
    assert binding["subjects"][0]["namespace"] == "ml-ops"
    certificate = found[("Certificate", "seldon-graph-serving-cert")]
    assert "seldon-graph-webhook-service.ml-ops.svc" in certificate["spec"]["dnsNames"]


def test_container_args_are_accepted_by_seldon_operator(manager):
    container = manager["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["seldon-operator"]
    args = cli.build_parser(OperatorSettings()).parse_args(container["args"])
    mount = container["volumeMounts"][0]["mountPath"]
    assert args.tls_cert_file.startswith(mount + "/") and args.tls_key_file.startswith(mount + "/")
    assert [p["containerPort"] for p in container["ports"]] == [args.webhook_port]
    for probe in (container["livenessProbe"], container["readinessProbe"]):
        assert probe["httpGet"]["port"] == container["ports"][0]["name"]
        assert probe["httpGet"]["scheme"] == "HTTPS"
        assert probe["httpGet"]["path"] in ("/healthz", "/readyz")


def _env(deployment: dict) -> dict:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def test_container_env_configures_the_operator_settings(manager):
    settings = OperatorSettings.from_env(_env(manager))
    assert settings.ambassador.enabled and not settings.istio.enabled and not settings.keda_enabled
    assert settings.engine.image == "ghcr.io/seldon-graph/seldon-graph:0.1.0"
    assert settings.controller_id == "" and settings.watch_namespace == ""
    assert settings.default_user_id == 8888

    overridden = by_kind(
        render_chart(
            {
                "istio.enabled": True,
                "ambassador.enabled": False,
                "controllerId": "team-a",
                "watchNamespace": "models",
                "istio.gateway": "gw/seldon",
                "image.repository": "registry.local/engine",
                "image.tag": "7",
            }
        )
    )
    settings = OperatorSettings.from_env(_env(overridden[("Deployment", "seldon-graph-operator")]))
    assert settings.istio.enabled and not settings.ambassador.enabled
    assert settings.istio.gateway == "gw/seldon" and settings.engine.image == "registry.local/engine:7"
    assert settings.controller_id == "team-a" and settings.watch_namespace == "models"
    args = cli.build_parser(settings).parse_args([])
    assert args.namespace == "models" and args.controller_id == "team-a"


def test_webhook_service_and_configuration_reach_the_webhook_server(chart, manager):
    service = chart[("Service", "seldon-graph-webhook-service")]
    pod = manager["spec"]["template"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["selector"] == manager["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] == pod["spec"]["containers"][0]["ports"][0]["name"]
    hook = next(o for (k, _), o in chart.items() if k == "ValidatingWebhookConfiguration")["webhooks"][0]
    assert hook["clientConfig"]["service"]["name"] == service["metadata"]["name"]
    assert hook["clientConfig"]["service"]["port"] == service["spec"]["ports"][0]["port"]
    assert hook["clientConfig"]["service"]["path"] == webhook.WEBHOOK_PATH
    assert hook["rules"][0]["apiGroups"] == ["machinelearning.seldon.io"]
    assert hook["rules"][0]["operations"] == ["CREATE", "UPDATE"]
    assert hook["sideEffects"] == "None" and hook["failurePolicy"] == "Fail"
    assert "v1" in hook["admissionReviewVersions"]
    certificate = chart[("Certificate", "seldon-graph-serving-cert")]
    assert pod["spec"]["volumes"][0]["secret"]["secretName"] == certificate["spec"]["secretName"]


def _allowed(role: dict, group: str, resource: str, verbs: set[str]) -> bool:
    granted: set[str] = set()
    for rule in role["rules"]:
        if group in rule["apiGroups"] and resource in rule["resources"]:
            granted |= set(rule["verbs"])
    return verbs <= granted


def test_rbac_covers_everything_the_controller_does(chart, manager):
    role = chart[("ClusterRole", "seldon-graph-operator")]
    manage = {"get", "list", "watch", "create", "patch", "delete"}
    for group, kind in RENDERED_KINDS:
        assert _allowed(role, group, PLURALS[kind], manage), kind
    assert _allowed(role, "machinelearning.seldon.io", "seldondeployments", {"get", "list", "watch"})
    assert _allowed(role, "machinelearning.seldon.io", "seldondeployments/status", {"patch"})
    # ownerReferences with blockOwnerDeletion need this where OwnerReferencesPermissionEnforcement is on
    assert _allowed(role, "machinelearning.seldon.io", "seldondeployments/finalizers", {"update"})
    assert _allowed(role, "", "events", {"create"})
    assert _allowed(role, "", "namespaces", {"get", "list", "watch"})
    binding = chart[("ClusterRoleBinding", "seldon-graph-operator")]
    account = chart[("ServiceAccount", "seldon-graph-operator")]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"][0]["name"] == account["metadata"]["name"]
    assert manager["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]
