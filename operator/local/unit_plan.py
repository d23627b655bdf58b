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
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from seldon_graph.operator.local.image_runs import CannotRun, LocalInputs, image_run, model_volumes, replace_mounts
from seldon_graph.operator.local.resources import MissingReference
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
    objects: list[dict],
    namespace: str,
    name: str,
    topology: Topology,
    cwd: str,
    podinfo_dir: str | None = None,
    inputs: LocalInputs | None = None,
) -> LocalPlan:
    """The local plan of one SeldonDeployment's rendered `objects`; the engine's /etc/podinfo goes in `podinfo_dir`;
    `inputs` are the source mappings, Secrets/ConfigMaps and server kinds for containers given only an image."""
    inputs = inputs or LocalInputs()
    result = LocalPlan(namespace, name, ingress_objects=[o for o in objects if o.get("kind") in INGRESS_KINDS])
    for pod, deployment in topology.deployments.items():
        ports = declared_ports(deployment)
        local = {p: topology.pod_port(pod, p) for p in ports}
        pod_spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in containers(deployment):
            unit_name = f"{pod}/{container['name']}"
            try:
                unit = _unit(container, pod_spec, _PodContext(pod, local, topology, inputs, cwd, unit_name))
            except (CannotRun, MissingReference) as exc:
                result.problems.append(f"{unit_name}: {exc}")
                continue
            if (
                podinfo_dir
                and container["name"] == ENGINE_CONTAINER
                and not any("annotations_file" in a for a in unit.argv)
            ):
                path = os.path.join(podinfo_dir, namespace, topology.instance(pod), "annotations")
                unit = replace(
                    unit,
                    argv=(*unit.argv, "--annotations_file", path),
                    files=(UnitFile(path, podinfo_annotations(deployment)),),
                )
            result.units.append(unit)
    return result


@dataclass(frozen=True)
class _PodContext:
    pod: str
    local: dict[int, int]
    topology: Topology
    inputs: LocalInputs
    cwd: str
    unit_name: str


def _unit(container: dict, pod_spec: dict, ctx: _PodContext) -> UnitSpec:
    """One container as a unit: its own command, or the image's (a source folder or a prepackaged server)."""
    env = _env(container, ctx)
    argv = _command(container)
    cwd = os.path.join(ctx.cwd, container["workingDir"]) if container.get("workingDir") else ctx.cwd
    phase_file = ""
    probe = _probe(container, ctx.topology, ctx.pod)
    if argv is None:
        volumes = model_volumes(pod_spec, container, ctx.inputs, lambda init: _env(init, ctx))
        instance = f"{ctx.topology.instance(ctx.pod)}/{container['name']}"
        run = image_run(container, dict(env), volumes, instance, ctx.inputs)
        storage_env = [pair for v in volumes for pair in v.env if pair[0] not in dict(env)]
        env = [EnvVar(k, replace_mounts(v, volumes)) for k, v in (*storage_env, *run.env, *env)]
        argv = [replace_mounts(token, volumes) for token in run.argv]
        cwd, phase_file = run.cwd or cwd, run.phase_file
        if run.ready_path and probe.kind in ("http", "tcp"):  # the port the rendered probe checks, the model's path
            probe = replace(probe, kind="http", path=run.ready_path)
    argv = [expand(token, dict(env)) for token in argv]
    return UnitSpec(
        name=ctx.unit_name,
        pod=ctx.pod,
        container=container["name"],
        instance=ctx.topology.instance(ctx.pod),
        argv=tuple(_remap_args(argv, ctx.local)),
        env=tuple(env),
        cwd=cwd,
        probe=probe,
        ports=tuple(
            UnitPort(p.get("name") or str(p["containerPort"]), ctx.local[int(p["containerPort"])])
            for p in container.get("ports") or []
        ),
        phase_file=phase_file,
    )


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


def _env(container: dict, ctx: _PodContext) -> list[EnvVar]:
    """envFrom, then env (which overrides it), as the kubelet builds it; Secrets and ConfigMaps from the file."""
    namespace, topology, pod = ctx.topology.namespace, ctx.topology, ctx.pod
    env = [EnvVar(k, v) for k, v in ctx.inputs.resources.env_from(container.get("envFrom") or [], namespace)]
    for item in container.get("env") or []:
        source = item.get("valueFrom") or {}
        field_path = (source.get("fieldRef") or {}).get("fieldPath") or ""
        if "value" in item:
            name, value = item["name"], expand(str(item["value"]), dict(env))
        elif FIELD_REFS.get(field_path):
            name, value = item["name"], FIELD_REFS[field_path](topology, pod)
        else:
            resolved = ctx.inputs.resources.value_from(source, namespace, item["name"])
            if resolved is None:
                continue  # resource fields and optional references that are absent
            name, value = item["name"], resolved
        if name.upper().endswith("PORT") and value.isdigit() and int(value) in ctx.local:
            value = str(ctx.local[int(value)])
        elif name == ENGINE_PREDICTOR:
            value = rewrite_engine_predictor(value, topology, pod)
        env.append(EnvVar(name, value))
    return env


# The `fieldRef` paths a local process has a value for: the pod's name and namespace, and its (loopback) IPs.
FIELD_REFS: dict[str, Callable[[Topology, str], str]] = {
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


def _own_port(container: dict, port: int | str) -> int | str:
    """A probe's named port is the container's own port of that name, as the kubelet resolves it (two containers
    of one pod both name theirs `http`)."""
    named = {p.get("name"): p["containerPort"] for p in container.get("ports") or [] if p.get("name")}
    return int(named[port]) if port in named else port


def _probe(container: dict, topology: Topology, pod: str) -> Probe:
    probe = container.get("readinessProbe") or {}
    if "httpGet" in probe:
        get = probe["httpGet"]
        return Probe("http", topology.pod_port(pod, _own_port(container, get["port"])), get.get("path") or "/")
    if "tcpSocket" in probe:
        return Probe("tcp", topology.pod_port(pod, _own_port(container, probe["tcpSocket"]["port"])))
    ports = container.get("ports") or []
    if ports:
        return Probe("tcp", topology.pod_port(pod, int(ports[0]["containerPort"])))
    return Probe("alive")
