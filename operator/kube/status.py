"""SeldonDeployment status from what the cluster reports: state, description, deploymentStatus, serviceStatus,
address.url, replicas and conditions (operator-semantics §7).

Pure functions: the same observed objects (and the same clock value) give the same status, so a reconcile whose
inputs did not change writes nothing. Condition transition times only move when a condition's status changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from seldon_graph import naming

AVAILABLE, CREATING, FAILED = "Available", "Creating", "Failed"
NOT_PROGRESSING = "Deployment is no longer progressing and not available."
MANAGED_FIELDS = (
    "state",
    "description",
    "deploymentStatus",
    "serviceStatus",
    "address",
    "replicas",
    "conditions",
    "observedGeneration",
)
Key = tuple[str, str, str]

# condition type -> (kind it counts, True-when-all-exist reason, True-when-none-wanted reason, False reason)
OBJECT_CONDITIONS = {
    "ServicesReady": ("Service", "All services created", "All services created", "Not all services created"),
    "HpasReady": ("HorizontalPodAutoscaler", "All HPAs resources ready", "No HPAs defined", "HPAs not ready"),
    "PdbsReady": ("PodDisruptionBudget", "All PDBs resources ready", "No PDBs defined", "PDBs not ready"),
    "KedaReady": ("ScaledObject", "All KEDA resources ready", "No KEDA resources defined", "KEDA resources not ready"),
    "istioVirtualServicesReady": (
        "VirtualService",
        "All VirtualServices created",
        "No VirtualServices defined",
        "Not all VirtualServices created",
    ),
    "AmbassadorMappingsReady": (
        "Mapping",
        "All Ambassador Mappings created",
        "No Ambassador Mappings defined",
        "Not all Ambassador Mappings created",
    ),
}
# Routing objects are written only once the Deployments are ready; the state does not wait for them.
STATE_CONDITIONS = ("DeploymentsReady", "ServicesReady", "HpasReady", "PdbsReady", "KedaReady")


def _condition(conditions: object, kind: str) -> dict[str, Any]:
    """The condition of type `kind` from a status's conditions list ({} when absent, or the list is malformed)."""
    return next((c for c in conditions if c.get("type") == kind), {}) if isinstance(conditions, list) else {}


def deployment_ready(dep: dict) -> bool:
    """Rolled out and available: the controller saw the current generation and every wanted replica is updated
    and available (a Deployment scaled to zero is ready once it has no replicas left)."""
    status = dep.get("status") or {}
    meta = dep.get("metadata") or {}
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return False
    wanted = (dep.get("spec") or {}).get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    if status.get("unavailableReplicas", 0) or status.get("replicas", 0) > updated:
        return False
    if wanted == 0:
        return status.get("replicas", 0) == 0
    return updated >= wanted and status.get("availableReplicas", 0) >= updated and status.get("readyReplicas", 0) > 0


def deployment_stalled(dep: dict) -> bool:
    """The Deployment controller gave up: Progressing is False and the Deployment is not Available."""
    conditions = (dep.get("status") or {}).get("conditions") or []
    progressing = _condition(conditions, "Progressing").get("status")
    available = _condition(conditions, "Available").get("status")
    return progressing == "False" and available != "True"


def prediction_path(protocol: str | None, graph_name: str) -> str:
    if protocol == "tensorflow":
        return f"/v1/models/{graph_name}:predict"
    if protocol in ("kfserving", "v2"):
        return f"/v2/models/{graph_name}/infer"
    return "/api/v1.0/predictions"


def _port(service: dict, prefix: str) -> int | None:
    for port in (service.get("spec") or {}).get("ports") or []:
        if str(port.get("name", "")).startswith(prefix):
            return port.get("port")
    return None


def service_status(service: dict, namespace: str) -> dict:
    name = service["metadata"]["name"]
    entry = {"svcName": name}
    http, grpc = _port(service, "http"), _port(service, "grpc")
    if http is not None:
        entry["httpEndpoint"] = f"{name}.{namespace}:{http}"
    if grpc is not None:
        entry["grpcEndpoint"] = f"{name}.{namespace}:{grpc}"
    return entry


def address_url(sdep: dict, services: dict[str, dict]) -> str | None:
    """`http://<predictor[0] Service>.<ns>.svc.cluster.local:<http port><prediction path>` once that Service exists."""
    predictors = (sdep.get("spec") or {}).get("predictors") or []
    if not predictors:
        return None
    first = predictors[0]
    service = services.get(naming.predictor_service_name(sdep["metadata"]["name"], first))
    if service is None:
        return None
    ports = (service.get("spec") or {}).get("ports") or []
    port = _port(service, "http") or (ports[0].get("port") if ports else None)
    namespace = sdep["metadata"].get("namespace") or "default"
    path = prediction_path(sdep["spec"].get("protocol"), (first.get("graph") or {}).get("name", ""))
    return f"http://{service['metadata']['name']}.{namespace}.svc.cluster.local:{port}{path}"


def _set(conditions: dict[str, dict], previous: list, kind: str, ok: bool, reason: str, message: str, now: str):
    entry = {"type": kind, "status": "True" if ok else "False"}
    if reason:
        entry["reason"] = reason
    if message:
        entry["message"] = message
    before = _condition(previous, kind)
    same = before.get("status") == entry["status"] and before.get("lastTransitionTime")
    entry["lastTransitionTime"] = before["lastTransitionTime"] if same else now
    conditions[kind] = entry


def _deployments_condition(missing: list[str], deployments: list[dict], ready: list[bool]) -> tuple[bool, str, str]:
    if missing:
        return False, "DeploymentsNotReady", f'Deployment "{missing[0]}" does not exist yet'
    if not deployments:
        return True, "No Deployments defined", ""
    waiting = [d for d, ok in zip(deployments, ready) if not ok]
    if waiting:
        dep = waiting[0]
        available = _condition((dep.get("status") or {}).get("conditions") or [], "Available")
        if available.get("status") == "False":
            return False, available.get("reason", ""), available.get("message", "")
        return False, "DeploymentsNotReady", f'Deployment "{dep["metadata"]["name"]}" is not available yet'
    latest = max(
        (_condition((d.get("status") or {}).get("conditions") or [], "Available") for d in deployments),
        key=lambda c: c.get("lastTransitionTime", ""),
    )
    return True, latest.get("reason", "DeploymentsAvailable"), latest.get("message", "")


def build_status(
    sdep: dict, desired: list[dict], live: dict[Key, dict], changed: Iterable[Key], previous: dict | None, now: str
) -> dict:
    """The status of `sdep` (defaulted, as a dict) after an apply pass that saw `live` and changed `changed`."""
    previous = previous or {}
    changed = set(changed)
    namespace = sdep["metadata"].get("namespace") or "default"
    previous_conditions = previous.get("conditions") or []
    keys = [(o["apiVersion"].rpartition("/")[0], o["kind"], o["metadata"]["name"]) for o in desired]

    deployments = [live[k] for k in keys if k[1] == "Deployment" and k in live]
    missing = [k[2] for k in keys if k[1] == "Deployment" and k not in live]
    ready = [
        deployment_ready(d) and (d["apiVersion"].rpartition("/")[0], "Deployment", d["metadata"]["name"]) not in changed
        for d in deployments
    ]
    deployments_ok = not missing and all(ready)

    conditions: dict[str, dict] = {}
    ok, reason, message = _deployments_condition(missing, deployments, ready)
    _set(conditions, previous_conditions, "DeploymentsReady", ok, reason, message, now)
    for kind, (counted, all_reason, none_reason, false_reason) in OBJECT_CONDITIONS.items():
        wanted = [k for k in keys if k[1] == counted]
        present = [k for k in wanted if k in live and k not in changed]
        ok = len(present) == len(wanted)
        _set(
            conditions,
            previous_conditions,
            kind,
            ok,
            (all_reason if wanted else none_reason) if ok else false_reason,
            "",
            now,
        )
    failing = [conditions[c] for c in sorted(conditions) if conditions[c]["status"] != "True"]
    _set(
        conditions,
        previous_conditions,
        "Ready",
        not failing,
        failing[0].get("reason", "") if failing else "",
        failing[0].get("message", "") if failing else "",
        now,
    )

    services = {k[2]: live[k] for k in keys if k[1] == "Service" and k in live}
    status: dict = {
        "deploymentStatus": {
            d["metadata"]["name"]: {
                "replicas": (d.get("status") or {}).get("replicas", 0),
                "availableReplicas": (d.get("status") or {}).get("availableReplicas", 0),
            }
            for d in deployments
        },
        "serviceStatus": {name: service_status(svc, namespace) for name, svc in services.items()},
        "conditions": [conditions[c] for c in sorted(conditions)],
    }
    engines = {
        naming.svc_orch_name(sdep["metadata"]["name"], p.get("name", ""))
        for p in (sdep.get("spec") or {}).get("predictors") or []
    }
    models = [d for d in deployments if d["metadata"]["name"] not in engines]
    if models:  # the scale subresource's statusReplicasPath: the default predictor's first model Deployment
        status["replicas"] = (models[0].get("status") or {}).get("replicas", 0)
    url = address_url(sdep, services)
    if url:
        status["address"] = {"url": url}
    if "generation" in sdep["metadata"]:
        status["observedGeneration"] = sdep["metadata"]["generation"]

    if any(deployment_stalled(d) for d in deployments):
        status["state"], status["description"] = FAILED, NOT_PROGRESSING
    elif deployments_ok and all(conditions[c]["status"] == "True" for c in STATE_CONDITIONS):
        status["state"], status["description"] = AVAILABLE, ""
    else:
        status["state"], status["description"] = CREATING, ""
    return status


def failed_status(previous: dict | None, message: str, generation: int | None, now: str) -> dict:
    """Status for a SeldonDeployment that could not be reconciled (invalid spec or an API error): what was
    observed before stays, state is Failed and the description says why."""
    status = {k: v for k, v in (previous or {}).items() if k in MANAGED_FIELDS}
    status["state"], status["description"] = FAILED, message
    conditions = {c["type"]: c for c in status.get("conditions") or [] if "type" in c}
    _set(conditions, status.get("conditions") or [], "Ready", False, "ReconcileFailed", message, now)
    status["conditions"] = [conditions[c] for c in sorted(conditions)]
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def status_patch(live: dict | None, new: dict) -> dict:
    """JSON merge patch turning the managed fields of `live` into `new` ({} when nothing differs)."""
    live = {k: v for k, v in (live or {}).items() if k in MANAGED_FIELDS}
    return _diff(live, new)


def _diff(old: dict, new: dict) -> dict:
    patch: dict = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            nested = _diff(before, value)
            if nested:
                patch[key] = nested
        elif before != value or key not in old:
            patch[key] = value
    return patch
