"""Kubernetes object names exactly as the Seldon v1 operator makes them.

Any candidate longer than 63 characters becomes `seldon-<md5 hex of the candidate>`, so names stay valid
and stable. Renderers (operator, ambassador, istio) and the local runtime all name objects through here.
"""

from __future__ import annotations

import hashlib

from seldon_graph.labels import SVC_NAME_ANNOTATION

MAX_NAME = 63


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def fit(candidate: str) -> str:
    """`candidate`, or `seldon-<md5(candidate)>` when it is longer than 63 characters."""
    return candidate if len(candidate) <= MAX_NAME else f"seldon-{md5_hex(candidate)}"


def seldon_id(sdep_name: str) -> str:
    """The `seldon-deployment-id` label value and the Istio VirtualService name."""
    return fit(sdep_name)


def predictor_service_name(sdep_name: str, predictor: dict) -> str:
    """pSvcName: the predictor's Service (and DestinationRule) name; `seldon.io/svc-name` wins when set."""
    override = (predictor.get("annotations") or {}).get(SVC_NAME_ANNOTATION)
    return override if override else fit(f"{sdep_name}-{predictor['name']}")


def deployment_name(
    sdep_name: str, predictor_name: str, index: int, component_spec: dict, as_prefix: bool = False
) -> str:
    """The model Deployment of componentSpec `index` (also the name of its HPA and PDB).

    With `as_prefix` (env DEPLOYMENT_NAME_AS_PREFIX=true) an over-long name becomes `<sdep>-<md5>` when that fits.
    """
    meta_name = (component_spec.get("metadata") or {}).get("name")
    if meta_name:
        suffix = meta_name
    else:
        containers = ((component_spec.get("spec") or {}).get("containers")) or []
        suffix = "-".join(c["name"] for c in containers)
    candidate = f"{sdep_name}-{predictor_name}-{index}-{suffix}"
    if len(candidate) > MAX_NAME and as_prefix:
        prefixed = f"{sdep_name}-{md5_hex(candidate)}"
        if len(prefixed) <= MAX_NAME:
            return prefixed
    return fit(candidate)


def container_service_name(sdep_name: str, predictor_name: str, container_name: str) -> str:
    return fit(f"{sdep_name}-{predictor_name}-{container_name}")


def svc_orch_name(sdep_name: str, predictor_name: str) -> str:
    """The separate engine Deployment (`seldon.io/engine-separate-pod`)."""
    return fit(f"{sdep_name}-{predictor_name}-svc-orch")


def explainer_name(sdep_name: str, predictor_name: str) -> str:
    return fit(f"{sdep_name}-{predictor_name}-explainer")
