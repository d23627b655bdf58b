"""Where rendered Kubernetes addresses live locally: pods (Deployments) and Services mapped to 127.0.0.1 ports.

Every pod has its own port space in Kubernetes; locally all pods share the host, so each (pod, containerPort)
is given a local port (ports.PortBook) and Service addresses resolve through selector and targetPort to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

LOCAL_IP = "127.0.0.1"
LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "0.0.0.0"}
CLUSTER_SUFFIXES = (".svc.cluster.local", ".svc")

LocalPort = Callable[[str, str, int], int]


class UnresolvableAddress(ValueError):
    """A Service address in the rendered state that matches no rendered Service or pod port."""


def containers(deployment: dict) -> list[dict]:
    return ((deployment.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []


def pod_labels(deployment: dict) -> dict:
    return ((deployment.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}


def named_ports(deployment: dict) -> dict[str, int]:
    """The pod's port names → containerPort (first container wins, as a Service targetPort name does)."""
    found: dict[str, int] = {}
    for container in containers(deployment):
        for port in container.get("ports") or []:
            if port.get("name") and port["name"] not in found:
                found[port["name"]] = int(port["containerPort"])
    return found


def declared_ports(deployment: dict) -> set[int]:
    return {int(p["containerPort"]) for c in containers(deployment) for p in c.get("ports") or []}


class Topology:
    """The rendered Deployments and Services of one namespace, and the local port of every address in them."""

    def __init__(self, objects: list[dict], namespace: str, local_port: LocalPort):
        self.namespace = namespace
        self.local_port = local_port
        self.deployments = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Deployment"}
        self.revisions = {name: revision(d) for name, d in self.deployments.items()}
        self.services = {
            (o["metadata"].get("namespace") or namespace, o["metadata"]["name"]): o
            for o in objects
            if o.get("kind") == "Service"
        }

    def pod_port(self, pod: str, port: int | str) -> int:
        """The local port of `port` (a number or a port name) in pod `pod`."""
        if isinstance(port, str) and not port.isdigit():
            names = named_ports(self.deployments[pod])
            if port not in names:
                raise UnresolvableAddress(f"pod {pod} has no port named {port!r}")
            port = names[port]
        return self.local_port(self.namespace, self.instance(pod), int(port))

    def instance(self, pod: str) -> str:
        """`<pod>@<revision>`: a changed pod template is a new pod with its own ports, so both can run during a
        rollout, as Kubernetes starts the new pod before it stops the old one."""
        return f"{pod}@{self.revisions[pod]}"

    def resolve(self, host: str, port: int) -> tuple[str, int]:
        """A Kubernetes address (`svc`, `svc.ns`, `svc.ns.svc.cluster.local`) and port → (127.0.0.1, local port)."""
        name, namespace = _split_host(host, self.namespace)
        service = self.services.get((namespace, name))
        if service is None:
            raise UnresolvableAddress(f"no Service {name!r} in namespace {namespace!r} for address {host}:{port}")
        spec = service.get("spec") or {}
        match = [p for p in spec.get("ports") or [] if int(p.get("port", 0)) == int(port)]
        if not match:
            raise UnresolvableAddress(f"Service {name!r} has no port {port}")
        target = match[0].get("targetPort", port)
        pod = self._select(spec.get("selector") or {}, target)
        return LOCAL_IP, self.pod_port(pod, target)

    def _select(self, selector: dict, target: int | str) -> str:
        pods = [
            name
            for name, deployment in self.deployments.items()
            if selector and all(pod_labels(deployment).get(k) == v for k, v in selector.items())
        ]
        if not pods:
            raise UnresolvableAddress(f"no pod matches Service selector {selector}")
        for pod in pods:
            if target in named_ports(self.deployments[pod]) or _as_int(target) in declared_ports(self.deployments[pod]):
                return pod
        return pods[0]


def revision(deployment: dict) -> str:
    """A short hash of the pod template (like Kubernetes' pod-template-hash)."""
    template = (deployment.get("spec") or {}).get("template") or {}
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def _as_int(value: int | str) -> int | None:
    return int(value) if str(value).isdigit() else None


def _split_host(host: str, default_namespace: str) -> tuple[str, str]:
    for suffix in CLUSTER_SUFFIXES:
        if host.endswith(suffix):
            host = host[: -len(suffix)]
            break
    name, _, namespace = host.partition(".")
    return name, namespace or default_namespace
