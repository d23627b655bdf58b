"""An in-test double of the Kubernetes API server: real HTTP on 127.0.0.1, in a thread, no cluster needed.

No Kubernetes API server can run on these machines, so the controller tests point the REAL kubernetes client
and the REAL kopf at this double through a kubeconfig. It speaks enough of the REST API for them: discovery
(/version, /api, /apis, APIResourceLists with subresources), bearer-token auth (401 without a known token) and
RBAC for tokens granted ClusterRole rules (403), GET / LIST / WATCH with resourceVersion and label selectors,
POST (with generateName), PUT, PATCH (merge-patch, strategic-merge treated as merge, JSON patch, and server-side
apply `application/apply-patch+yaml` with field managers: fields a manager stops applying are removed, an apply
that changes nothing bumps no resourceVersion), CPU quantities read back in canonical form, immutable Deployment
selectors and Service clusterIPs, volume mounts checked against the pod's volumes, DELETE (one, or a collection
by label selector), the status subresource, generation bumps on spec changes, and garbage collection of owned
objects (also of objects created with an owner that no longer exists). With `admission_url` set it calls the
SeldonDeployment validating webhook on create and update through the API (test helpers bypass it).

Tests simulate the other controllers of a cluster (the Deployment controller reporting availability) with
`set_status`, and read `requests` to assert what the controller under test sent.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import ClientError, ClientSession, web

from tests.support.procs import free_port


@dataclass(frozen=True)
class Kind:
    group: str
    versions: tuple[str, ...]
    plural: str
    kind: str
    namespaced: bool = True
    subresources: tuple[str, ...] = ("status",)


KINDS = (
    Kind("", ("v1",), "namespaces", "Namespace", namespaced=False),
    Kind("", ("v1",), "services", "Service"),
    Kind("", ("v1",), "events", "Event", subresources=()),
    Kind("", ("v1",), "configmaps", "ConfigMap", subresources=()),
    Kind("apps", ("v1",), "deployments", "Deployment", subresources=("status", "scale")),
    Kind("autoscaling", ("v2",), "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
    Kind("policy", ("v1",), "poddisruptionbudgets", "PodDisruptionBudget"),
    Kind(
        "machinelearning.seldon.io",
        ("v1", "v1alpha2", "v1alpha3"),
        "seldondeployments",
        "SeldonDeployment",
        subresources=("status", "scale"),
    ),
    Kind("keda.sh", ("v1alpha1",), "scaledobjects", "ScaledObject"),
    Kind("getambassador.io", ("v2", "v3alpha1"), "mappings", "Mapping", subresources=()),
    Kind("getambassador.io", ("v2", "v3alpha1"), "tlscontexts", "TLSContext", subresources=()),
    Kind("networking.istio.io", ("v1alpha3", "v1beta1", "v1"), "virtualservices", "VirtualService"),
    Kind("networking.istio.io", ("v1alpha3", "v1beta1", "v1"), "destinationrules", "DestinationRule"),
    Kind("apiextensions.k8s.io", ("v1",), "customresourcedefinitions", "CustomResourceDefinition", namespaced=False),
)
TOKEN = "double-token"
WEBHOOK = "v1.vseldondeployment.kb.io"
SERVER_OWNED_META = (
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
    "deletionTimestamp",
    "selfLink",
)


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def response(self) -> web.Response:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        return web.json_response(body, status=self.code)


@dataclass
class Stored:
    obj: dict
    managers: dict[str, set[tuple]] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict
    content_type: str
    body: Any


# ---------------------------------------------------------------- label selectors and patch helpers

_TERM = re.compile(r"\s*(?:(!)?([\w./-]+)\s*(?:(==|=|!=)\s*([\w./-]*)|\s+(in|notin)\s*\(([^)]*)\))?)\s*(?:,|$)")


def match_labels(selector: str, labels: dict) -> bool:
    """Kubernetes label-selector semantics: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`."""
    pos = 0
    selector = selector.strip()
    while pos < len(selector):
        m = _TERM.match(selector, pos)
        if not m or m.end() == pos:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {selector[pos:]!r}")
        pos = m.end()
        neg, key, op, value, set_op, values = m.groups()
        if neg:
            ok = key not in labels
        elif op in ("=", "=="):
            ok = labels.get(key) == value
        elif op == "!=":
            ok = labels.get(key) != value
        elif set_op:
            choices = {v.strip() for v in values.split(",")}
            ok = (labels.get(key) in choices) if set_op == "in" else (labels.get(key) not in choices)
        else:
            ok = key in labels
        if not ok:
            return False
    return True


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: dict, ops: list) -> dict:
    """RFC 6902 JSON patch (add, replace, remove, test) — what kopf sends for finalizers."""
    doc = copy.deepcopy(target)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = parts[-1]
        if op["op"] in ("add", "replace"):
            if isinstance(parent, list):
                index = len(parent) if last == "-" else int(last)
                if op["op"] == "add":
                    parent.insert(index, op["value"])
                else:
                    parent[index] = op["value"]
            else:
                parent[last] = op["value"]
        elif op["op"] == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            else:
                parent.pop(last, None)
        elif op["op"] == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if current != op["value"]:
                raise ApiError(422, "Invalid", f"test failed at {op['path']}")
    return doc


def leaf_paths(obj: Any, prefix: tuple = ()) -> set[tuple]:
    """Paths of the fields an applied configuration sets (lists are atomic, as for most apply-able lists)."""
    if isinstance(obj, dict) and obj:
        return set().union(*(leaf_paths(v, prefix + (k,)) for k, v in obj.items()))
    return {prefix}


def remove_path(obj: dict, path: tuple) -> None:
    node = obj
    for key in path[:-1]:
        node = node.get(key)
        if not isinstance(node, dict):
            return
    node.pop(path[-1], None)


def deep_merge(base: Any, overlay: Any) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        result = dict(base)
        for key, value in overlay.items():
            result[key] = deep_merge(base.get(key), value)
        return result
    return copy.deepcopy(overlay)


def canonical_quantities(obj: dict) -> None:
    """Rewrite CPU quantities of pod templates in the API server's canonical form ("0.5" -> "500m", "2.0" -> "2"),
    so a client comparing what it sent with what it reads back sees what it would see on a real cluster."""
    pod = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
        for section in (container.get("resources") or {}).values():
            cpu = section.get("cpu") if isinstance(section, dict) else None
            if isinstance(cpu, str) and re.fullmatch(r"\d*\.\d+", cpu):
                milli = round(float(cpu) * 1000)
                section["cpu"] = str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def pod_template_errors(obj: dict) -> list[str]:
    """What the API server's validation says about volume mounts naming no volume of the pod."""
    pod = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    volumes = {v.get("name") for v in pod.get("volumes") or []}
    errors = []
    for i, container in enumerate(pod.get("containers") or []):
        for j, mount in enumerate(container.get("volumeMounts") or []):
            if mount.get("name") not in volumes:
                errors.append(
                    f'spec.template.spec.containers[{i}].volumeMounts[{j}].name: Not found: "{mount.get("name")}"'
                )
    return errors


def check_object(kind: Kind, obj: dict) -> None:
    errors = pod_template_errors(obj) if kind.kind == "Deployment" else []
    if errors:
        raise ApiError(
            422,
            "Invalid",
            f'{kind.kind}.{kind.group or "core"} "{obj["metadata"]["name"]}" is invalid: ' + ", ".join(errors),
        )


def without_server_fields(obj: dict) -> dict:
    obj = copy.deepcopy(obj)
    meta = obj.get("metadata") or {}
    for key in SERVER_OWNED_META:
        meta.pop(key, None)
    return obj


# ---------------------------------------------------------------- the server


class ApiDouble:
    """The API server double. Use as a context manager; `url` is its base URL, `kubeconfig(path)` writes one."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[Request] = []
        self._store: dict[tuple, Stored] = {}
        self._log: list[tuple[int, tuple, str | None, str, dict]] = []
        self._rv = itertools.count(1)
        self._last_rv = 0
        self._uids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="apidouble", daemon=True)
        self._closing = False
        self.admission_url: str | None = None  # the SeldonDeployment validating webhook, when set
        self.write_delay = 0.0  # seconds every PATCH/POST/PUT/DELETE waits before it is served (a slow server)
        self.tokens: dict[str, list[dict] | None] = {TOKEN: None}  # bearer token -> RBAC rules (None: admin)
        self.denied: list[str] = []  # what RBAC refused

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> ApiDouble:
        self._thread.start()
        self._call(self._start())
        return self

    def __exit__(self, *exc) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        await self._runner.cleanup()

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def grant(self, token: str, rules: list[dict]) -> None:
        """Accept `token` with only the permissions of these ClusterRole `rules` (403 for anything else)."""
        self.tokens[token] = rules

    def kubeconfig(self, path: Path, namespace: str = "default", token: str = TOKEN) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "double",
            "clusters": [{"name": "double", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": token}}],
            "contexts": [
                {"name": "double", "context": {"cluster": "double", "user": "tester", "namespace": namespace}}
            ],
        }
        path.write_text(yaml.safe_dump(config))
        return path

    # ------------------------------------------------------------ thread-safe helpers for tests
    def objects(self, plural: str, namespace: str | None = None) -> list[dict]:
        """Snapshot of stored objects of `plural` (optionally in one namespace), sorted by name."""

        async def snap():
            return sorted(
                (
                    copy.deepcopy(s.obj)
                    for key, s in self._store.items()
                    if key[1] == plural and (namespace is None or key[2] == namespace)
                ),
                key=lambda o: o["metadata"]["name"],
            )

        return self._call(snap())

    def get(self, plural: str, namespace: str | None, name: str) -> dict | None:
        async def one():
            stored = self._store.get((self._kind(plural).group, plural, namespace, name))
            return copy.deepcopy(stored.obj) if stored else None

        return self._call(one())

    def set_status(self, plural: str, namespace: str, name: str, status: dict) -> None:
        """Replace an object's status, as the controller owning that kind would (emits MODIFIED)."""

        async def write():
            key = (self._kind(plural).group, plural, namespace, name)
            new = copy.deepcopy(self._store[key].obj)
            new["status"] = status
            await self._commit(key, new, "MODIFIED")

        self._call(write())

    def create(self, obj: dict) -> dict:
        """Create an object directly (as `kubectl create` would)."""

        async def make():
            kind = next(k for k in KINDS if k.kind == obj["kind"])
            return await self._create(
                kind, obj["metadata"].get("namespace") if kind.namespaced else None, copy.deepcopy(obj)
            )

        return self._call(make())

    def writes(self, since: int = 0) -> list[Request]:
        """Requests that could change state (POST/PUT/PATCH/DELETE) from index `since` on."""
        return [r for r in self.requests[since:] if r.method in ("POST", "PUT", "PATCH", "DELETE")]

    def last_rv(self) -> int:
        return self._last_rv

    # ------------------------------------------------------------ storage core (loop thread only)
    @staticmethod
    def _kind(plural: str) -> Kind:
        return next(k for k in KINDS if k.plural == plural)

    async def _commit(self, key: tuple, obj: dict | None, event: str, old: dict | None = None) -> dict:
        rv = next(self._rv)
        self._last_rv = rv
        if obj is None:
            gone = copy.deepcopy(old)
            gone["metadata"]["resourceVersion"] = str(rv)
            self._store.pop(key, None)
            self._log.append((rv, key[:2], key[2], "DELETED", gone))
            result = gone
        else:
            obj["metadata"]["resourceVersion"] = str(rv)
            stored = self._store.get(key)
            if stored is None:
                self._store[key] = Stored(obj)
            else:
                stored.obj = obj
            self._log.append((rv, key[:2], key[2], event, copy.deepcopy(obj)))
            result = copy.deepcopy(obj)
        async with self._changed:
            self._changed.notify_all()
        return result

    async def _admit(self, kind: Kind, operation: str, obj: dict, old: dict | None) -> None:
        """Call the validating webhook for SeldonDeployments, as the API server would (failurePolicy: Fail)."""
        if not self.admission_url or kind.plural != "seldondeployments":
            return
        review = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": str(uuid.uuid4()),
                "operation": operation,
                "name": obj["metadata"].get("name"),
                "namespace": obj["metadata"].get("namespace"),
                "object": obj,
                "oldObject": old,
                "kind": {"group": kind.group, "version": "v1", "kind": kind.kind},
                "resource": {"group": kind.group, "version": "v1", "resource": kind.plural},
            },
        }
        try:
            async with ClientSession() as session, session.post(self.admission_url, json=review) as reply:
                answer = (await reply.json())["response"]
        except (ClientError, ValueError, KeyError) as exc:
            raise ApiError(500, "InternalError", f'failed calling webhook "{WEBHOOK}": {exc}') from None
        if not answer.get("allowed"):
            status = answer.get("status") or {}
            raise ApiError(
                status.get("code", 400),
                status.get("reason", "BadRequest"),
                f'admission webhook "{WEBHOOK}" denied the request: {status.get("message", "")}',
            )

    async def _create(self, kind: Kind, namespace: str | None, obj: dict, admit: bool = False) -> dict:
        meta = obj.setdefault("metadata", {})
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise ApiError(422, "Invalid", "metadata.name: Required value: name or generateName is required")
            meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
        if kind.namespaced:
            if not namespace:
                raise ApiError(400, "BadRequest", "the namespace of the object must be set")
            meta["namespace"] = namespace
        key = (kind.group, kind.plural, namespace, meta["name"])
        if key in self._store:
            raise ApiError(409, "AlreadyExists", f'{kind.plural} "{meta["name"]}" already exists')
        for server_field in SERVER_OWNED_META:
            meta.pop(server_field, None)
        if admit:
            await self._admit(kind, "CREATE", obj, None)
        meta["uid"] = f"uid-{next(self._uids):06d}"
        meta["creationTimestamp"] = "2026-01-01T00:00:00Z"
        meta["generation"] = 1
        obj.setdefault("kind", kind.kind)
        check_object(kind, obj)
        canonical_quantities(obj)
        if kind.kind == "Service":
            obj.setdefault("spec", {}).setdefault("clusterIP", f"10.96.0.{next(self._uids) % 250 + 1}")
        result = await self._commit(key, obj, "ADDED")
        owners = {ref.get("uid") for ref in meta.get("ownerReferences") or []}
        if owners and not any(s.obj["metadata"].get("uid") in owners for s in self._store.values()):
            await self._delete(kind, key)  # the garbage collector removes dependents whose owners are gone
        return result

    async def _update(self, kind: Kind, key: tuple, new: dict, subresource: str | None, admit: bool = False) -> dict:
        """Store `new` over the live object: the main endpoint keeps status, the status endpoint only writes it."""
        live = self._store[key].obj
        if subresource == "status":
            merged = copy.deepcopy(live)
            merged["status"] = new.get("status", {})
        else:
            merged = copy.deepcopy(new)
            if "status" in kind.subresources:
                merged.pop("status", None)
                if "status" in live:
                    merged["status"] = copy.deepcopy(live["status"])
            meta = merged.setdefault("metadata", {})
            for server_field in SERVER_OWNED_META:
                if server_field in live["metadata"]:
                    meta[server_field] = live["metadata"][server_field]
                else:
                    meta.pop(server_field, None)
            meta["name"], meta["namespace"] = live["metadata"]["name"], live["metadata"].get("namespace")
            if meta["namespace"] is None:
                meta.pop("namespace")
            immutable = {"Deployment": "selector", "Service": "clusterIP"}.get(kind.kind)
            if immutable and (merged.get("spec") or {}).get(immutable) != live["spec"].get(immutable):
                raise ApiError(
                    422,
                    "Invalid",
                    f'{kind.kind} "{meta["name"]}" is invalid: spec.{immutable}: Invalid value: field is immutable',
                )
            check_object(kind, merged)
            canonical_quantities(merged)
            spec_of = lambda o: {k: v for k, v in o.items() if k not in ("metadata", "status")}  # noqa: E731
            if spec_of(merged) != spec_of(live):
                meta["generation"] = live["metadata"].get("generation", 1) + 1
        merged.setdefault("apiVersion", live.get("apiVersion"))
        merged.setdefault("kind", live.get("kind"))
        if merged == live:
            return copy.deepcopy(live)
        if admit and subresource is None:
            await self._admit(kind, "UPDATE", merged, live)
        if merged["metadata"].get("deletionTimestamp") and not merged["metadata"].get("finalizers"):
            return await self._delete(kind, key)
        return await self._commit(key, merged, "MODIFIED")

    async def _delete(self, kind: Kind, key: tuple) -> dict:
        live = self._store[key].obj
        if live["metadata"].get("finalizers"):
            if live["metadata"].get("deletionTimestamp"):
                return copy.deepcopy(live)
            marked = copy.deepcopy(live)
            marked["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:01Z"
            return await self._commit(key, marked, "MODIFIED")
        result = await self._commit(key, None, "DELETED", old=live)
        uid = live["metadata"]["uid"]
        for other_key, other in list(self._store.items()):
            owners = other.obj["metadata"].get("ownerReferences") or []
            if any(ref.get("uid") == uid for ref in owners) and other_key in self._store:
                await self._delete(self._kind(other_key[1]), other_key)
        return result

    async def _apply(
        self,
        kind: Kind,
        key: tuple,
        namespace: str | None,
        name: str,
        applied: dict,
        manager: str,
        subresource: str | None,
    ) -> tuple[dict, int]:
        applied = without_server_fields(applied)
        meta = applied.setdefault("metadata", {})
        if meta.get("name", name) != name:
            raise ApiError(400, "BadRequest", "the name of the object does not match the name in the URL")
        meta["name"] = name
        if key not in self._store:
            created = await self._create(kind, namespace, copy.deepcopy(applied), admit=True)
            if key in self._store:  # the manager owns what it applied, not what the server defaulted
                self._store[key].managers[manager] = leaf_paths(applied)
            return created, 201
        stored = self._store[key]
        new_paths = leaf_paths(applied)
        base = copy.deepcopy(stored.obj)
        for path in stored.managers.get(manager, set()) - new_paths:
            remove_path(base, path)
        merged = deep_merge(base, applied)
        result = await self._update(kind, key, merged, subresource, admit=True)
        stored.managers[manager] = new_paths
        return result, 200

    # ------------------------------------------------------------ HTTP
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return ApiError(401, "Unauthorized", "a bearer token from the kubeconfig is required").response()
        body = None
        if request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    body = yaml.safe_load(raw) if "yaml" in request.content_type else json.loads(raw)
                except (ValueError, yaml.YAMLError) as exc:
                    return ApiError(400, "BadRequest", f"cannot decode body: {exc}").response()
        self.requests.append(Request(request.method, request.path, dict(request.query), request.content_type, body))
        if self.write_delay and request.method != "GET":
            await asyncio.sleep(self.write_delay)
        try:
            return await self._route(request, body, self.tokens[token])
        except ApiError as exc:
            return exc.response()

    async def _route(self, request: web.Request, body: Any, rules: list[dict] | None) -> web.StreamResponse:
        path = request.path.rstrip("/")
        if path == "/version":
            return web.json_response(
                {"major": "1", "minor": "29", "gitVersion": "v1.29.0-apidouble", "platform": "linux/amd64"}
            )
        if path == "/api":
            return web.json_response({"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            return web.json_response(self._group_list())
        segments = path.strip("/").split("/")
        if segments[0] == "api":
            group, version, rest = "", segments[1] if len(segments) > 1 else "", segments[2:]
        elif segments[0] == "apis" and len(segments) >= 3:
            group, version, rest = segments[1], segments[2], segments[3:]
        else:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource {path}")
        if not rest:
            return web.json_response(self._resource_list(group, version))
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        kind = next((k for k in KINDS if k.group == group and version in k.versions and k.plural == rest[0]), None)
        if kind is None or (namespace is not None and not kind.namespaced):
            raise ApiError(404, "NotFound", f"the server could not find the requested resource {path}")
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if subresource and subresource not in kind.subresources:
            raise ApiError(404, "NotFound", f"{kind.plural} has no subresource {subresource}")
        if rules is not None:
            self._authorize(rules, request, kind, namespace, name, subresource)
        api_version = f"{group}/{version}" if group else version
        if name is None:
            return await self._collection(request, kind, api_version, namespace, body)
        return await self._item(request, kind, api_version, namespace, name, subresource, body)

    def _authorize(
        self,
        rules: list[dict],
        request: web.Request,
        kind: Kind,
        namespace: str | None,
        name: str | None,
        subresource: str | None,
    ) -> None:
        """RBAC as the API server checks it: verb on group/resource[/subresource] (apply that creates: also create)."""
        collection_verbs = {
            "GET": "watch" if request.query.get("watch") in ("true", "1") else "list",
            "POST": "create",
            "DELETE": "deletecollection",
        }
        item_verbs = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
        verbs = [(collection_verbs if name is None else item_verbs).get(request.method, request.method.lower())]
        if (
            request.method == "PATCH"
            and request.content_type == "application/apply-patch+yaml"
            and (kind.group, kind.plural, namespace, name) not in self._store
        ):
            verbs.append("create")
        resource = f"{kind.plural}/{subresource}" if subresource else kind.plural
        for verb in verbs:
            if not any(
                kind.group in rule.get("apiGroups", [])
                and resource in rule.get("resources", [])
                and verb in rule.get("verbs", [])
                for rule in rules
            ):
                message = f'{resource} is forbidden: cannot {verb} resource "{resource}" in API group "{kind.group}"'
                self.denied.append(message)
                raise ApiError(403, "Forbidden", message)

    def _group_list(self) -> dict:
        groups: dict[str, list[str]] = {}
        for kind in KINDS:
            if kind.group:
                versions = groups.setdefault(kind.group, [])
                versions.extend(v for v in kind.versions if v not in versions)
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": g,
                    "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                    "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]},
                }
                for g, vs in groups.items()
            ],
        }

    def _resource_list(self, group: str, version: str) -> dict:
        resources = []
        for kind in KINDS:
            if kind.group == group and version in kind.versions:
                verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
                resources.append(
                    {
                        "name": kind.plural,
                        "singularName": kind.kind.lower(),
                        "kind": kind.kind,
                        "namespaced": kind.namespaced,
                        "verbs": verbs,
                    }
                )
                resources.extend(
                    {
                        "name": f"{kind.plural}/{sub}",
                        "singularName": "",
                        "kind": kind.kind,
                        "namespaced": kind.namespaced,
                        "verbs": ["get", "patch", "update"],
                    }
                    for sub in kind.subresources
                )
        if not resources:
            raise ApiError(404, "NotFound", f"no resources in {group}/{version}")
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources,
        }

    def _matching(self, kind: Kind, namespace: str | None, query) -> Iterator[dict]:
        selector = query.get("labelSelector", "")
        fields = dict(term.split("=", 1) for term in query.get("fieldSelector", "").split(",") if "=" in term)
        for key, stored in sorted(self._store.items()):
            if key[:2] != (kind.group, kind.plural) or (namespace is not None and key[2] != namespace):
                continue
            meta = stored.obj["metadata"]
            if selector and not match_labels(selector, meta.get("labels") or {}):
                continue
            if any(meta.get(f.split(".", 1)[-1]) != v for f, v in fields.items()):
                continue
            yield stored.obj

    def _as_version(self, obj: dict, api_version: str) -> dict:
        obj = copy.deepcopy(obj)
        obj["apiVersion"] = api_version
        return obj

    async def _collection(self, request, kind: Kind, api_version: str, namespace, body) -> web.StreamResponse:
        query = request.query
        if request.method == "GET" and query.get("watch") in ("true", "1"):
            return await self._watch(request, kind, api_version, namespace)
        if request.method == "GET":
            items = [self._as_version(o, api_version) for o in self._matching(kind, namespace, query)]
            return web.json_response(
                {
                    "kind": f"{kind.kind}List",
                    "apiVersion": api_version,
                    "metadata": {"resourceVersion": str(self._last_rv)},
                    "items": items,
                }
            )
        if request.method == "POST":
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "the body must be an object")
            created = await self._create(
                kind, namespace or (body.get("metadata") or {}).get("namespace"), body, admit=True
            )
            return web.json_response(self._as_version(created, api_version), status=201)
        if request.method == "DELETE":
            doomed = [
                (kind.group, kind.plural, o["metadata"].get("namespace"), o["metadata"]["name"])
                for o in self._matching(kind, namespace, query)
            ]
            gone = [await self._delete(kind, key) for key in doomed if key in self._store]
            return web.json_response(
                {
                    "kind": f"{kind.kind}List",
                    "apiVersion": api_version,
                    "metadata": {"resourceVersion": str(self._last_rv)},
                    "items": gone,
                }
            )
        raise ApiError(405, "MethodNotAllowed", f"{request.method} is not allowed on a collection")

    async def _item(
        self, request, kind: Kind, api_version: str, namespace, name: str, subresource, body
    ) -> web.StreamResponse:
        key = (kind.group, kind.plural, namespace, name)
        method = request.method
        if method == "PATCH" and request.content_type == "application/apply-patch+yaml":
            manager = request.query.get("fieldManager")
            if not manager:
                raise ApiError(400, "BadRequest", "fieldManager is required for apply requests")
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "an apply body must be an object")
            result, status = await self._apply(kind, key, namespace, name, body, manager, subresource)
            return web.json_response(self._as_version(result, api_version), status=status)
        if key not in self._store:
            raise ApiError(404, "NotFound", f'{kind.plural}.{kind.group or "core"} "{name}" not found')
        live = self._store[key].obj
        if method == "GET":
            return web.json_response(self._as_version(live, api_version))
        if method == "DELETE":
            return web.json_response(self._as_version(await self._delete(kind, key), api_version))
        if method == "PUT":
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "the body must be an object")
            sent_rv = (body.get("metadata") or {}).get("resourceVersion")
            if sent_rv and sent_rv != live["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", f'the object "{name}" has been modified; please retry')
            result = await self._update(kind, key, body, subresource, admit=True)
            return web.json_response(self._as_version(result, api_version))
        if method == "PATCH":
            if request.content_type == "application/json-patch+json":
                patched = json_patch(live, body or [])
            elif request.content_type in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                patched = merge_patch(live, body or {})
            else:
                raise ApiError(415, "UnsupportedMediaType", f"unsupported patch type {request.content_type}")
            result = await self._update(kind, key, patched, subresource, admit=True)
            return web.json_response(self._as_version(result, api_version))
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed")

    async def _watch(self, request, kind: Kind, api_version: str, namespace) -> web.StreamResponse:
        query = request.query
        since = int(query["resourceVersion"]) if query.get("resourceVersion") else self._last_rv
        selector = query.get("labelSelector", "")
        timeout = float(query.get("timeoutSeconds") or 3600)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        deadline = self._loop.time() + timeout
        cursor = 0
        try:
            while not self._closing:
                while cursor < len(self._log):
                    rv, resource, ns, event, obj = self._log[cursor]
                    cursor += 1
                    if rv <= since or resource != (kind.group, kind.plural):
                        continue
                    if namespace is not None and ns != namespace:
                        continue
                    if selector and not match_labels(selector, obj["metadata"].get("labels") or {}):
                        continue
                    line = json.dumps({"type": event, "object": self._as_version(obj, api_version)})
                    await response.write(line.encode() + b"\n")
                remaining = deadline - self._loop.time()
                if remaining <= 0:
                    break
                async with self._changed:
                    try:
                        await asyncio.wait_for(self._changed.wait(), min(remaining, 1.0))
                    except TimeoutError:
                        pass
        except (ConnectionResetError, asyncio.CancelledError):
            return response
        return response
