"""The SeldonDeployment controller: level-triggered reconcile of one SeldonDeployment, and its kopf handlers.

Every event on a SeldonDeployment — the initial listing at start-up (resume), creation, spec changes, our own
status writes — and every event on a Deployment, Service, HPA or PDB it owns runs the same idempotent reconcile
(operator-semantics §4.2): select by `seldon.io/controller-id`, validate, render the desired state, server-side
apply the workload objects, then — once every Deployment is rolled out — the routing objects (Ambassador/Istio)
and the pruning of objects the SeldonDeployment no longer asks for, and finally write the status if it changed.
A reconcile of an unchanged SeldonDeployment sends no write at all, so the event loop settles.
"""

from __future__ import annotations

import copy
import datetime
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import kopf

from seldon_graph import sdep
from seldon_graph.labels import SDEP_ID_LABEL
from seldon_graph.operator.kube import status as sdep_status
from seldon_graph.operator.kube.api import (
    ROUTING_KINDS,
    ApplyResult,
    KubeApi,
    KubeError,
    KubernetesBackend,
    object_key,
)
from seldon_graph.operator.kube.webhook import spec_errors
from seldon_graph.operator.render.desired import RenderError

GROUP, VERSION, PLURAL = "machinelearning.seldon.io", "v1", "seldondeployments"
API_VERSION = f"{GROUP}/{VERSION}"
CONTROLLER_ID_LABEL = "seldon.io/controller-id"
COMPONENT = "seldon-graph-operator"
# Kinds searched for stale objects: labelled workload kinds by `seldon-deployment-id`, routing kinds (Istio objects
# carry no labels) by owner only. A kind the cluster does not serve is skipped.
WORKLOAD_KINDS = (
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
    ("keda.sh/v1alpha1", "ScaledObject"),
)
ROUTING_KINDS_BY_VERSION = (
    ("getambassador.io/v2", "Mapping"),
    ("getambassador.io/v2", "TLSContext"),
    ("networking.istio.io/v1alpha3", "VirtualService"),
    ("networking.istio.io/v1alpha3", "DestinationRule"),
)
OWNED_WATCHES = (
    ("apps", "v1", "deployments"),
    ("", "v1", "services"),
    ("autoscaling", "v2", "horizontalpodautoscalers"),
    ("policy", "v1", "poddisruptionbudgets"),
)
# The original's creation order (§4.2 step 5): a Deployment the API server refuses still leaves its Services.
APPLY_ORDER = ("Service", "HorizontalPodAutoscaler", "ScaledObject", "PodDisruptionBudget", "Deployment")
MAX_PASSES = 3
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

log = logging.getLogger("seldon_graph.operator")
Render = Callable[[sdep.SeldonDeployment], list[dict]]
Emit = Callable[[dict, str, str, str], None]


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Selection:
    """Which SeldonDeployments this controller serves (operator-semantics §4.2 step 2)."""

    controller_id: str = ""
    cluster_wide: bool = True

    def accepts(self, sdep_labels: dict | None, namespace_labels: dict | None) -> bool:
        """A cluster-wide controller leaves namespaces labelled with a controller id to their own controller;
        any controller serves only SeldonDeployments whose `seldon.io/controller-id` label equals its id."""
        if self.cluster_wide and (namespace_labels or {}).get(CONTROLLER_ID_LABEL):
            return False
        return (sdep_labels or {}).get(CONTROLLER_ID_LABEL, "") == self.controller_id


class Controller:
    """Reconciles SeldonDeployments through the Kubernetes API; safe to call from several threads."""

    def __init__(
        self,
        api: KubeApi,
        render: Render,
        sdep_settings: sdep.SdepSettings | None = None,
        selection: Selection = Selection(),
        emit: Emit | None = None,
        clock: Callable[[], str] = utc_now,
    ):
        self.api = api
        self.backend = KubernetesBackend(api)
        self.render = render
        self.sdep_settings = sdep_settings
        self.selection = selection
        self.emit = emit if emit is not None else self.post_event
        self.clock = clock
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self._retries: dict[tuple[str, str], int] = {}
        self._timers: dict[tuple[str, str], threading.Timer] = {}
        self._closed = False

    # ------------------------------------------------------------ entry points
    def reconcile(self, body: dict) -> dict | None:
        """Reconcile the SeldonDeployment `body` names; returns the status it now has, None when skipped."""
        meta = body.get("metadata") or {}
        namespace, name = meta.get("namespace") or "default", meta["name"]
        with self._lock(namespace, name):
            current = None
            try:
                current = self.api.get(API_VERSION, "SeldonDeployment", namespace, name)
                if current is None or current["metadata"].get("deletionTimestamp") or not self._selected(current):
                    return None
                result = self._reconcile(current)
            except KubeError as exc:
                self._failed_by_api(current, exc, (namespace, name))
                return None
            with self._guard:  # healthy again: forget the backoff
                self._retries.pop((namespace, name), None)
                self._timers.pop((namespace, name), None)
            return result

    def reconcile_owner(self, owned: dict) -> dict | None:
        """Reconcile the SeldonDeployment that controls `owned` (a Deployment or Service it created)."""
        for ref in owned["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "SeldonDeployment" and ref.get("controller"):
                return self.reconcile(
                    {"metadata": {"namespace": owned["metadata"].get("namespace"), "name": ref["name"]}}
                )
        return None

    def close(self) -> None:
        """Cancel pending retries (on shutdown)."""
        with self._guard:
            self._closed = True
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()

    # ------------------------------------------------------------ the reconcile
    def _reconcile(self, body: dict) -> dict:
        meta = body["metadata"]
        previous = body.get("status") or {}
        problems = spec_errors(body, self.sdep_settings)
        if problems:
            message = "; ".join(problems)
            new = sdep_status.failed_status(previous, message, meta.get("generation"), self.clock())
            if self._write_status(body, new):
                self.emit(body, "Warning", "InvalidSpec", message)
            return new
        try:
            objects = self.render(sdep.parse(body))
        except Exception as exc:  # a renderer failure is deterministic: report it, do not retry
            if not isinstance(exc, RenderError):
                log.exception("rendering %s/%s failed", meta.get("namespace"), meta["name"])
            message = str(exc) if isinstance(exc, RenderError) else f"internal error while rendering: {exc!r}"
            new = sdep_status.failed_status(previous, message, meta.get("generation"), self.clock())
            if self._write_status(body, new):
                self.emit(body, "Warning", "InternalError", message)
            return new
        activity = ApplyResult()
        try:
            result = self._converge(body, objects, activity)
        finally:  # what was done is announced even when a later step failed
            self._announce_objects(body, activity)
        new = sdep_status.build_status(body, objects, result.live, result.changed, previous, self.clock())
        if self._write_status(body, new) or activity.created or activity.updated or activity.deleted:
            self.emit(body, "Normal", "Updated", f'Updated SeldonDeployment "{meta["name"]}"')
        return new

    def _converge(self, body: dict, objects: list[dict], activity: ApplyResult) -> ApplyResult:
        """Apply passes until one changes nothing (the last pass is what status reports); `activity` collects
        what every pass created, updated and deleted, up to a failure."""
        result = ApplyResult()
        for _ in range(MAX_PASSES):
            result = ApplyResult()
            try:
                self._pass(body, objects, result)
            finally:
                activity.created += result.created
                activity.updated += result.updated
                activity.deleted += result.deleted
            if not (result.changed or result.deleted):
                break
        return result

    def _pass(self, body: dict, objects: list[dict], result: ApplyResult) -> None:
        workload = sorted((o for o in objects if o["kind"] not in ROUTING_KINDS), key=_apply_rank)
        routing = [o for o in objects if o["kind"] in ROUTING_KINDS]
        self.backend.apply(workload, result)
        if not self._rolled_out(workload, result):
            for obj in routing:  # observed for status only: traffic moves once the new pods serve
                live = self.api.get(
                    obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]
                )
                if live is not None:
                    result.live[object_key(obj)] = live
            return
        self.backend.apply(routing, result)
        namespace, uid = body["metadata"].get("namespace") or "default", body["metadata"]["uid"]
        keep = {object_key(o) for o in objects}
        self.backend.prune(namespace, uid, keep, WORKLOAD_KINDS, result, selector=SDEP_ID_LABEL)
        self.backend.prune(namespace, uid, keep, ROUTING_KINDS_BY_VERSION, result)

    @staticmethod
    def _rolled_out(workload: list[dict], result: ApplyResult) -> bool:
        for obj in workload:
            if obj["kind"] != "Deployment":
                continue
            key = object_key(obj)
            live = result.live.get(key)
            if live is None or key in result.changed or not sdep_status.deployment_ready(live):
                return False
        return True

    # ------------------------------------------------------------ selection, status, events, retries
    def _selected(self, body: dict) -> bool:
        namespace_labels: dict = {}
        if self.selection.cluster_wide:
            try:
                namespace = self.api.get("v1", "Namespace", None, body["metadata"].get("namespace") or "default")
                namespace_labels = (namespace or {}).get("metadata", {}).get("labels") or {}
            except KubeError as exc:  # no permission to read namespaces: judge by the object's label alone
                log.warning("cannot read namespace labels: %s", exc)
        return self.selection.accepts(body["metadata"].get("labels"), namespace_labels)

    def _write_status(self, body: dict, new: dict) -> bool:
        patch = sdep_status.status_patch(body.get("status"), new)
        if not patch:
            return False
        meta = body["metadata"]
        self.api.patch_status(API_VERSION, "SeldonDeployment", meta.get("namespace") or "default", meta["name"], patch)
        return True

    def _announce_objects(self, body: dict, activity: ApplyResult) -> None:
        for verb, keys in (("Create", activity.created), ("Update", activity.updated), ("Delete", activity.deleted)):
            for _, kind, name in keys:
                self.emit(body, "Normal", f"{verb}{kind}", f'{verb}d {kind} "{name}"')

    def _failed_by_api(self, body: dict | None, exc: KubeError, key: tuple[str, str]) -> None:
        log.warning("reconcile of %s/%s failed: %s", key[0], key[1], exc)
        if body is not None and exc.status != 409:  # a conflict is someone else's newer write: just try again
            meta = body["metadata"]
            new = sdep_status.failed_status(body.get("status"), str(exc), meta.get("generation"), self.clock())
            try:
                self._write_status(body, new)
            except KubeError as status_exc:
                log.warning("cannot write the status of %s/%s: %s", key[0], key[1], status_exc)
            self.emit(body, "Warning", "InternalError", str(exc))
        self._retry_later(key)

    def _retry_later(self, key: tuple[str, str]) -> None:
        with self._guard:
            if self._closed:
                return
            attempt = self._retries.get(key, 0)
            self._retries[key] = attempt + 1
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            previous = self._timers.pop(key, None)
            if previous:
                previous.cancel()
            timer = threading.Timer(delay, self.reconcile, ({"metadata": {"namespace": key[0], "name": key[1]}},))
            timer.daemon = True
            self._timers[key] = timer
            timer.start()

    def _lock(self, namespace: str, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault((namespace, name), threading.Lock())

    def post_event(self, body: dict, kind: str, reason: str, message: str) -> None:
        """A Kubernetes Event on the SeldonDeployment (failures to post are logged, never fatal)."""
        meta = body["metadata"]
        namespace = meta.get("namespace") or "default"
        now = self.clock()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": namespace},
            "involvedObject": {
                "apiVersion": body.get("apiVersion", API_VERSION),
                "kind": "SeldonDeployment",
                "name": meta["name"],
                "namespace": namespace,
                "uid": meta.get("uid", ""),
            },
            "type": kind,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self.api.request("POST", f"/api/v1/namespaces/{namespace}/events", body=event)
        except KubeError as exc:
            log.warning("cannot post event %s on %s: %s", reason, meta["name"], exc)


def _apply_rank(obj: dict) -> int:
    return APPLY_ORDER.index(obj["kind"]) if obj["kind"] in APPLY_ORDER else len(APPLY_ORDER)


# ---------------------------------------------------------------- kopf handlers (plain functions)


def on_seldondeployment(controller: Controller, event: dict, body: Any, **_: Any) -> None:
    """Any event on a SeldonDeployment: reconcile it (deletions are left to owner-reference GC)."""
    if event.get("type") == "DELETED":
        return
    controller.reconcile(copy.deepcopy(dict(body)))


def on_owned_object(controller: Controller, event: dict, body: Any, **_: Any) -> None:
    """A Deployment, Service, HPA or PDB of a SeldonDeployment changed or went away: reconcile its owner."""
    controller.reconcile_owner(copy.deepcopy(dict(body)))


def register(registry: kopf.OperatorRegistry, controller: Controller) -> None:
    """Attach the handlers for `controller` to a kopf registry."""
    kopf.on.event(GROUP, VERSION, PLURAL, id="seldondeployment", registry=registry)(
        functools.partial(on_seldondeployment, controller)
    )
    for group, version, plural in OWNED_WATCHES:
        kopf.on.event(
            group, version, plural, id=f"owned-{plural}", registry=registry, labels={SDEP_ID_LABEL: kopf.PRESENT}
        )(functools.partial(on_owned_object, controller))
