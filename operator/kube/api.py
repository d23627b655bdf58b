"""The Kubernetes backend: apply a SeldonDeployment's desired objects with server-side apply, prune what it no
longer asks for, and read back what the cluster reports.

Objects go through a thin REST layer on the kubernetes client's ApiClient (auth, TLS and kubeconfig handling stay
the client's), so any kind the renderers produce — Deployments, Services, HPAs, PDBs, Ambassador Mappings, Istio
VirtualServices and DestinationRules — is applied the same way, without per-kind API classes or discovery.

Idempotence: every applied object carries a hash of its desired form. An object is not sent again when its live
copy has that hash and either is exactly what our last apply left (same resourceVersion) or still holds every
desired field; the API server normalises some values (CPU "0.5" reads back as "500m"), so after a restart such an
object is applied once more, which the server answers without a change. An object counts as changed only when an
apply created it or moved its resourceVersion, so a reconcile of an unchanged SeldonDeployment changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import kubernetes
import urllib3

FIELD_MANAGER = "seldon-graph"
HASH_ANNOTATION = "seldon.io/desired-hash"
ROUTING_KINDS = frozenset({"Mapping", "TLSContext", "VirtualService", "DestinationRule"})
PLURALS = {
    "Deployment": "deployments",
    "Service": "services",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers",
    "PodDisruptionBudget": "poddisruptionbudgets",
    "Mapping": "mappings",
    "TLSContext": "tlscontexts",
    "VirtualService": "virtualservices",
    "DestinationRule": "destinationrules",
    "ScaledObject": "scaledobjects",
    "SeldonDeployment": "seldondeployments",
    "Namespace": "namespaces",
    "Event": "events",
}
CLUSTER_SCOPED = frozenset({"Namespace"})


class KubeError(Exception):
    """A non-2xx answer of the API server, with its HTTP status and the server's Status message."""

    def __init__(self, status: int, reason: str, message: str):
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message


def resource_path(
    api_version: str, kind: str, namespace: str | None = None, name: str | None = None, subresource: str | None = None
) -> str:
    """REST path of a kind's collection, or of one object (and its subresource)."""
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    plural = PLURALS.get(kind) or f"{kind.lower()}s"
    path = base
    if namespace and kind not in CLUSTER_SCOPED:
        path += f"/namespaces/{quote(namespace, safe='')}"
    path += f"/{plural}"
    if name:
        path += f"/{quote(name, safe='')}"
        if subresource:
            path += f"/{subresource}"
    return path


def desired_hash(obj: dict) -> str:
    """Stable hash of an object's desired form (the same object always hashes the same)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def contains(live: Any, desired: Any) -> bool:
    """True when every field of `desired` is present in `live` with the same value (live may have more)."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(k in live and contains(live[k], v) for k, v in desired.items())
    if isinstance(desired, list):
        return (
            isinstance(live, list) and len(live) == len(desired) and all(contains(a, b) for a, b in zip(live, desired))
        )
    return live == desired


def object_key(obj: dict) -> tuple[str, str, str]:
    """(API group, kind, name): identifies an object within one namespace, whatever version it is read in."""
    group = obj["apiVersion"].rpartition("/")[0]
    return group, obj["kind"], obj["metadata"]["name"]


def owned_by(obj: dict, owner_uid: str) -> bool:
    return any(ref.get("uid") == owner_uid for ref in obj["metadata"].get("ownerReferences") or [])


class KubeApi:
    """Generic JSON REST calls through a configured kubernetes ApiClient."""

    def __init__(self, api_client: kubernetes.client.ApiClient, timeout: float = 30.0):
        self.client = api_client
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        query: Iterable[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        method, url, headers, body, _ = self.client.param_serialize(
            method, path, query_params=list(query), header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        try:
            response = self.client.call_api(
                method, url, header_params=headers, body=body, _request_timeout=self.timeout
            )
            data = response.read()
        except (urllib3.exceptions.HTTPError, kubernetes.client.exceptions.ApiException, OSError) as exc:
            raise KubeError(503, "Unavailable", f"cannot reach the API server: {exc}") from None
        try:
            payload = json.loads(data) if data else None
        except ValueError:  # e.g. an HTML error page from a proxy in front of the API server
            raise KubeError(response.status, "BadResponse", data[:500].decode("utf-8", "replace")) from None
        if not 200 <= response.status < 300:
            payload = payload if isinstance(payload, dict) else {}
            raise KubeError(response.status, payload.get("reason", ""), payload.get("message", str(data)[:500]))
        return payload

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict | None:
        try:
            return self.request("GET", resource_path(api_version, kind, namespace, name))
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, api_version: str, kind: str, namespace: str | None, selector: str = "") -> list[dict]:
        query = [("labelSelector", selector)] if selector else []
        result = self.request("GET", resource_path(api_version, kind, namespace), query)
        items = result.get("items") or []
        for item in items:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def apply(self, obj: dict, field_manager: str = FIELD_MANAGER) -> dict:
        """Server-side apply (force: this controller owns the fields it renders)."""
        meta = obj["metadata"]
        path = resource_path(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
        query = [("fieldManager", field_manager), ("force", "true")]
        return self.request("PATCH", path, query, obj, "application/apply-patch+yaml")

    def delete(
        self, api_version: str, kind: str, namespace: str | None, name: str, propagation: str = "Foreground"
    ) -> bool:
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        try:
            self.request("DELETE", resource_path(api_version, kind, namespace, name), body=body)
            return True
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise

    def patch_status(self, api_version: str, kind: str, namespace: str, name: str, patch: dict) -> dict:
        path = resource_path(api_version, kind, namespace, name, "status")
        return self.request("PATCH", path, body={"status": patch}, content_type="application/merge-patch+json")


@dataclass
class ApplyResult:
    """What one apply pass did and saw: live objects by key, and which of them this pass created or changed."""

    live: dict[tuple[str, str, str], dict] = field(default_factory=dict)
    created: list[tuple[str, str, str]] = field(default_factory=list)
    updated: list[tuple[str, str, str]] = field(default_factory=list)
    deleted: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> set[tuple[str, str, str]]:
        return set(self.created) | set(self.updated)


class KubernetesBackend:
    """Applies desired objects to one namespace, skipping unchanged ones, and prunes stale owned objects."""

    def __init__(self, api: KubeApi, field_manager: str = FIELD_MANAGER):
        self.api = api
        self.field_manager = field_manager
        # (namespace, group, kind, name) -> (desired hash, resourceVersion our last apply left)
        self._applied: dict[tuple, tuple[str, str]] = {}

    def apply(self, objects: list[dict], result: ApplyResult | None = None) -> ApplyResult:
        result = result if result is not None else ApplyResult()
        for obj in objects:
            key = object_key(obj)
            stamped = stamp(obj)
            meta = obj["metadata"]
            where = (meta.get("namespace"), *key)
            live = self.api.get(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
            if live is not None and self._unchanged(where, live, stamped):
                result.live[key] = live
                continue
            if live is not None and immutable_field_changed(live, obj):
                # replace the object (the original did so for a changed Deployment selector only)
                self.api.delete(
                    obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"], propagation="Background"
                )
                result.deleted.append(key)
                live = None
            applied = self.api.apply(stamped, self.field_manager)
            version = applied["metadata"].get("resourceVersion")
            self._applied[where] = (stamped["metadata"]["annotations"][HASH_ANNOTATION], version)
            result.live[key] = applied
            if live is None:
                result.created.append(key)
            elif version != live["metadata"].get("resourceVersion"):
                result.updated.append(key)
        return result

    def _unchanged(self, where: tuple, live: dict, stamped: dict) -> bool:
        """`live` was applied from this exact desired form and is untouched since, or holds every desired field."""
        digest = stamped["metadata"]["annotations"][HASH_ANNOTATION]
        if (live["metadata"].get("annotations") or {}).get(HASH_ANNOTATION) != digest:
            return False
        if self._applied.get(where) == (digest, live["metadata"].get("resourceVersion")):
            return True
        return contains(live, {k: v for k, v in stamped.items() if k not in ("apiVersion", "status")})

    def prune(
        self,
        namespace: str,
        owner_uid: str,
        keep: set[tuple[str, str, str]],
        kinds: Iterable[tuple[str, str]],
        result: ApplyResult,
        selector: str = "",
    ) -> ApplyResult:
        """Delete objects of `kinds` owned by `owner_uid` (and matching `selector`) whose key is not in `keep`."""
        for api_version, kind in kinds:
            try:
                candidates = self.api.list(api_version, kind, namespace, selector)
            except KubeError as exc:
                if exc.status in (403, 404):  # a kind this cluster (or our role) does not have: nothing to prune
                    continue
                raise
            for obj in candidates:
                key = object_key(obj)
                if key in keep or not owned_by(obj, owner_uid) or obj["metadata"].get("deletionTimestamp"):
                    continue
                if self.api.delete(api_version, kind, namespace, obj["metadata"]["name"]):
                    result.deleted.append(key)
                self._applied.pop((namespace, *key), None)
        return result


def stamp(obj: dict) -> dict:
    """`obj` with the hash of its desired form in an annotation, so an unchanged object is recognised later."""
    meta = dict(obj["metadata"])
    meta["annotations"] = {**(meta.get("annotations") or {}), HASH_ANNOTATION: desired_hash(obj)}
    return {**obj, "metadata": meta}


def immutable_field_changed(live: dict, desired: dict) -> bool:
    """The API server cannot make `live` into `desired` in place: a Deployment's selector differs, or a Service
    must switch between headless (`clusterIP: None`, `seldon.io/headless-svc`) and a cluster IP."""
    spec, live_spec = desired.get("spec") or {}, live.get("spec") or {}
    if desired["kind"] == "Deployment":
        return "selector" in spec and live_spec.get("selector") != spec["selector"]
    if desired["kind"] == "Service":
        return (spec.get("clusterIP") == "None") != (live_spec.get("clusterIP") == "None")
    return False
