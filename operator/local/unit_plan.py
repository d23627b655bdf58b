"""Desired state → local units: each runnable container of each rendered Deployment becomes a process.

Pure: the same rendered objects and port assignments give the same unit specs. Ports are remapped so pods do
not collide (env values and args that name a pod port), and the engine's ENGINE_PREDICTOR is rewritten so
every unit endpoint points at the unit's local address.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass, field

from seldon_graph.operator.local.topology import (
    LOCAL_HOSTS,
    LOCAL_IP,
    Topology,
    containers,
    declared_ports,
)
from seldon_graph.operator.local.unit_spec import EnvVar, Probe, UnitFile, UnitPort, UnitSpec

ENGINE_CONTAINER = "seldon-container-engine"
ENGINE_COMMAND = ("seldon-engine",)
ENGINE_PREDICTOR = "ENGINE_PREDICTOR"
INGRESS_KINDS = {"Mapping", "VirtualService", "DestinationRule", "Service"}


@dataclass
class LocalPlan:
    """The units to run for one SeldonDeployment, the objects the ingress is built from, and what cannot run."""

    namespace: str
    name: str
    units: list[UnitSpec] = field(default_factory=list)
    ingress_objects: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def plan_units(
    objects: list[dict], namespace: str, name: str, topology: Topology, cwd: str, podinfo_dir: str | None = None
) -> LocalPlan:
    """The local plan of one SeldonDeployment's rendered `objects`; the engine's /etc/podinfo goes in `podinfo_dir`."""
    result = LocalPlan(namespace, name, ingress_objects=[o for o in objects if o.get("kind") in INGRESS_KINDS])
    for pod, deployment in topology.deployments.items():
        ports = declared_ports(deployment)
        for container in containers(deployment):
            argv = _command(container)
            if argv is None:
                result.problems.append(
                    f"container {container['name']!r} of {pod} has only an image ({container.get('image', 'none')}): "
                    "image-only containers cannot run locally; give it a command, e.g. command: "
                    "[seldon-core-microservice, examples.models.Doubler, --service-type, MODEL]"
                )
                continue
            local = {p: topology.pod_port(pod, p) for p in ports}
            env = _env(container, local, topology, pod)
            argv = [expand(token, dict(env)) for token in argv]
            files: tuple[UnitFile, ...] = ()
            if podinfo_dir and container["name"] == ENGINE_CONTAINER and not any("annotations_file" in a for a in argv):
                path = os.path.join(podinfo_dir, namespace, topology.instance(pod), "annotations")
                argv += ["--annotations_file", path]
                files = (UnitFile(path, podinfo_annotations(deployment)),)
            result.units.append(
                UnitSpec(
                    name=f"{pod}/{container['name']}",
                    pod=pod,
                    container=container["name"],
                    instance=topology.instance(pod),
                    argv=tuple(_remap_args(argv, local)),
                    env=tuple(env),
                    cwd=os.path.join(cwd, container.get("workingDir", "")) if container.get("workingDir") else cwd,
                    probe=_probe(container, topology, pod),
                    files=files,
                    ports=tuple(
                        UnitPort(p.get("name") or str(p["containerPort"]), local[int(p["containerPort"])])
                        for p in container.get("ports") or []
                    ),
                )
            )
    return result


def podinfo_annotations(deployment: dict) -> str:
    """The pod's annotations as the downward API writes /etc/podinfo/annotations (`key="value"` lines, sorted):
    where the engine reads seldon.io/rest-timeout and friends."""
    annotations = ((deployment.get("spec") or {}).get("template") or {}).get("metadata", {}).get("annotations") or {}
    return "".join(f"{key}={json.dumps(str(value))}\n" for key, value in sorted(annotations.items()))


def _command(container: dict) -> list[str] | None:
    command = list(container.get("command") or [])
    args = [str(a) for a in container.get("args") or []]
    if command:
        return [str(c) for c in command] + args
    if container.get("name") == ENGINE_CONTAINER:
        return [*ENGINE_COMMAND, *args]
    return None


def _remap_args(argv: list[str], local: dict[int, int]) -> list[str]:
    """Port numbers in `--x-port N` / `--x_port=N` arguments that name a pod port become the local port."""
    out: list[str] = []
    for token in argv:
        flag, eq, value = token.partition("=")
        if eq and "port" in flag.lower() and value.isdigit() and int(value) in local:
            token = f"{flag}={local[int(value)]}"
        elif out and "port" in out[-1].lower() and out[-1].startswith("-") and token.isdigit() and int(token) in local:
            token = str(local[int(token)])
        out.append(token)
    return out


def _env(container: dict, local: dict[int, int], topology: Topology, pod: str) -> list[EnvVar]:
    env: list[EnvVar] = []
    for item in container.get("env") or []:
        if "value" in item:
            name, value = item["name"], expand(str(item["value"]), dict(env))
        elif FIELD_REFS.get(((item.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")):
            field_path = item["valueFrom"]["fieldRef"]["fieldPath"]
            name, value = item["name"], FIELD_REFS[field_path](topology, pod)
        else:
            continue  # secrets, config maps and resource fields do not exist locally
        if name.upper().endswith("PORT") and value.isdigit() and int(value) in local:
            value = str(local[int(value)])
        elif name == ENGINE_PREDICTOR:
            value = rewrite_engine_predictor(value, topology, pod)
        env.append(EnvVar(name, value))
    return env


FIELD_REFS = {
    "metadata.name": lambda topology, pod: topology.instance(pod).replace("@", "-"),
    "metadata.namespace": lambda topology, pod: topology.namespace,
    "status.podIP": lambda topology, pod: LOCAL_IP,
    "status.hostIP": lambda topology, pod: LOCAL_IP,
}


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` references to the container's env (unknown ones stay as written, `$$` escapes)."""
    return re.sub(
        r"\$(\$|\(([A-Za-z_][A-Za-z0-9_]*)\))",
        lambda m: "$" if m.group(1) == "$" else env.get(m.group(2), m.group(0)),
        text,
    )


def rewrite_engine_predictor(encoded: str, topology: Topology, pod: str) -> str:
    """ENGINE_PREDICTOR (base64 JSON PredictorSpec) with each unit endpoint moved to its local address."""
    predictor = json.loads(base64.b64decode(encoded))
    _rewrite_endpoints(predictor.get("graph") or {}, topology, pod)
    return base64.b64encode(json.dumps(predictor, separators=(",", ":")).encode()).decode()


def _rewrite_endpoints(node: dict, topology: Topology, pod: str) -> None:
    endpoint = node.get("endpoint")
    if endpoint and endpoint.get("service_port"):
        host = endpoint.get("service_host") or ""
        for key in ("service_port", "httpPort", "grpcPort"):
            if endpoint.get(key):
                if host in LOCAL_HOSTS:
                    endpoint[key] = topology.pod_port(pod, int(endpoint[key]))
                else:
                    endpoint[key] = topology.resolve(host, int(endpoint[key]))[1]
        endpoint["service_host"] = LOCAL_IP
    for child in node.get("children") or []:
        _rewrite_endpoints(child, topology, pod)


def _probe(container: dict, topology: Topology, pod: str) -> Probe:
    probe = container.get("readinessProbe") or {}
    if "httpGet" in probe:
        get = probe["httpGet"]
        return Probe("http", topology.pod_port(pod, get["port"]), get.get("path") or "/")
    if "tcpSocket" in probe:
        return Probe("tcp", topology.pod_port(pod, probe["tcpSocket"]["port"]))
    ports = container.get("ports") or []
    if ports:
        return Probe("tcp", topology.pod_port(pod, int(ports[0]["containerPort"])))
    return Probe("alive")
