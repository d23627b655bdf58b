"""Desired state → local units: port remapping, the engine's rewritten view of its units, ingress address resolution."""

import base64
import json
from pathlib import Path

import pytest
import yaml

from seldon_graph.operator.local import oauth_envoy, xds
from seldon_graph.operator.local.desired_objects import parse_local, render
from seldon_graph.operator.local.topology import Topology, UnresolvableAddress
from seldon_graph.operator.local.unit_plan import ENGINE_CONTAINER, plan_units

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class CountingPorts:
    """A deterministic stand-in for PortBook: 20000, 20001, … in order of first use."""

    def __init__(self):
        self.assigned = {}

    def __call__(self, namespace, pod, port):
        return self.assigned.setdefault((namespace, pod, port), 20000 + len(self.assigned))


def local_plan(manifest, ingress="ambassador"):
    objects = render(parse_local(manifest), ingress)
    ports = CountingPorts()
    topology = Topology(objects, "seldon", ports)
    return plan_units(objects, "seldon", manifest["metadata"]["name"], topology, "/work"), topology, ports


def example(name, index=0):
    return list(yaml.safe_load_all((EXAMPLES / name).read_text()))[index]


def engine_predictor(unit):
    return json.loads(base64.b64decode(dict(unit.env)["ENGINE_PREDICTOR"]))


def test_every_container_becomes_a_unit_with_remapped_ports():
    result, _, ports = local_plan(example("graph.yaml"))
    assert result.problems == []
    units = {u.container: u for u in result.units}
    assert set(units) == {"transformer", "router", "model-a", "model-b", ENGINE_CONTAINER}
    pod = "graph-default-0-transformer-router-model-a-model-b"
    local = {port: value for (_, p, port), value in ports.assigned.items() if p.startswith(f"{pod}@")}
    model_a = dict(units["model-a"].env)
    assert model_a["PREDICTIVE_UNIT_HTTP_SERVICE_PORT"] == str(local[9002])
    assert model_a["PREDICTIVE_UNIT_GRPC_SERVICE_PORT"] == str(local[9502])
    assert model_a["PREDICTIVE_UNIT_METRICS_SERVICE_PORT"] == str(local[6002])
    assert units["model-a"].argv == ("seldon-core-microservice", "examples.models.Doubler", "--service-type", "MODEL")
    engine = units[ENGINE_CONTAINER].argv
    assert engine[engine.index("--http_port") + 1] == str(local[8000])
    assert engine[engine.index("--grpc_port") + 1] == str(local[5001])
    assert units[ENGINE_CONTAINER].probe.kind == "http" and units[ENGINE_CONTAINER].probe.port == local[8000]
    assert units["router"].probe.kind == "tcp" and units["router"].probe.port == local[9001]
    assert all(u.cwd == "/work" for u in result.units)


def test_engine_sees_each_unit_at_its_local_address():
    result, _, _ = local_plan(example("graph.yaml"))
    units = {u.container: u for u in result.units}
    graph = engine_predictor(units[ENGINE_CONTAINER])["graph"]
    nodes = [graph, graph["children"][0], *graph["children"][0]["children"]]
    for node in nodes:
        endpoint = node["endpoint"]
        unit_ports = dict(units[node["name"]].ports)
        assert endpoint["service_host"] == "127.0.0.1"
        assert endpoint["service_port"] == endpoint["httpPort"] == unit_ports["http"]
        assert endpoint["grpcPort"] == unit_ports["grpc"]


def test_pods_with_the_same_container_ports_do_not_collide():
    result, _, _ = local_plan(example("canary.yaml"))
    classifiers = [u for u in result.units if u.container == "classifier"]
    assert len(classifiers) == 2
    http_ports = {dict(u.ports)["http"] for u in classifiers}
    assert len(http_ports) == 2
    all_ports = [p for u in result.units for _, p in u.ports]
    assert len(set(all_ports)) == len({(u.pod, p) for u in result.units for _, p in u.ports})


def test_services_resolve_to_the_pod_behind_them():
    result, topology, _ = local_plan(example("canary.yaml"))
    engines = {u.pod: dict(u.ports) for u in result.units if u.container == ENGINE_CONTAINER}
    main_pod = next(p for p in engines if "-main-" in p)
    assert topology.resolve("canary-main.seldon", 8000) == ("127.0.0.1", engines[main_pod]["http"])
    assert topology.resolve("canary-main.seldon.svc.cluster.local", 5001) == ("127.0.0.1", engines[main_pod]["grpc"])
    with pytest.raises(UnresolvableAddress, match="no Service 'nope'"):
        topology.resolve("nope.seldon", 8000)
    with pytest.raises(UnresolvableAddress, match="no port 1234"):
        topology.resolve("canary-main.seldon", 1234)


def test_separate_engine_pod_reaches_units_through_their_services():
    manifest = example("combiner.yaml")
    manifest["spec"]["annotations"] = {"seldon.io/engine-separate-pod": "true"}
    result, _, _ = local_plan(manifest)
    engine = next(u for u in result.units if u.container == ENGINE_CONTAINER)
    models = {u.container: dict(u.ports) for u in result.units if u.container != ENGINE_CONTAINER}
    assert engine.pod.endswith("-svc-orch")
    graph = engine_predictor(engine)["graph"]
    for node in [graph, *graph["children"]]:
        assert node["endpoint"]["service_host"] == "127.0.0.1"
        assert node["endpoint"]["service_port"] == models[node["name"]]["http"]


def test_image_only_containers_are_reported_not_started():
    manifest = example("single-model.yaml")
    del manifest["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"][0]["command"]
    result, _, _ = local_plan(manifest)
    assert [u.container for u in result.units] == [ENGINE_CONTAINER]
    assert len(result.problems) == 1
    assert "seldonio/doubler:0.1" in result.problems[0]
    assert "--source seldonio/doubler=DIR" in result.problems[0]
    assert "'classifier'" in result.problems[0]


def test_built_in_units_need_no_process():
    manifest = example("canary.yaml")
    main = manifest["spec"]["predictors"][0]
    main["graph"] = {
        "name": "ab",
        "implementation": "RANDOM_ABTEST",
        "parameters": [{"name": "ratioA", "type": "FLOAT", "value": "0.5"}],
        "children": [{"name": "classifier", "type": "MODEL"}],
    }
    del main["traffic"]
    manifest["spec"]["predictors"] = [main]
    result, _, _ = local_plan(manifest)
    assert sorted(u.container for u in result.units) == ["classifier", ENGINE_CONTAINER]
    assert result.problems == []


def test_plans_are_pure():
    first, _, _ = local_plan(example("graph.yaml"))
    second, _, _ = local_plan(example("graph.yaml"))
    assert [u.fingerprint() for u in first.units] == [u.fingerprint() for u in second.units]


def test_static_bootstrap_splits_into_watched_xds_files():
    bootstrap = {"static_resources": {"listeners": [{"name": "l"}], "clusters": [{"name": "c"}]}}
    lds, cds = xds.split_static(bootstrap, "7")
    assert lds == {"version_info": "7", "resources": [{"@type": xds.LISTENER_TYPE, "name": "l"}]}
    assert cds == {"version_info": "7", "resources": [{"@type": xds.CLUSTER_TYPE, "name": "c"}]}
    dynamic = xds.dynamic_bootstrap(Path("/x/lds.json"), Path("/x/cds.json"), 9901)
    assert dynamic["dynamic_resources"]["lds_config"]["path_config_source"]["path"] == "/x/lds.json"
    assert dynamic["admin"]["address"]["socket_address"]["port_value"] == 9901


def test_oauth_puts_the_token_route_first_and_the_check_before_the_router():
    from seldon_graph import envoy

    route = {"match": {"prefix": "/seldon/"}, "route": {"cluster": "x"}}
    base = envoy.bootstrap(envoy.RouteTable((route,), ()), 8003, 9901)
    result = oauth_envoy.with_oauth(base, 7777)
    hcm = result["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    assert [f["name"] for f in hcm["http_filters"]] == ["envoy.filters.http.ext_authz", "envoy.filters.http.router"]
    assert hcm["route_config"]["virtual_hosts"][0]["routes"] == [oauth_envoy.token_route(), route]
    assert oauth_envoy.oauth_cluster(7777) in result["static_resources"]["clusters"]
    assert hcm["local_reply_config"]["mappers"][0] == oauth_envoy.unauthorized_reply_mapper()
    assert base["static_resources"]["clusters"] == []


def test_kubernetes_env_references_and_downward_fields_are_resolved():
    manifest = example("single-model.yaml")
    container = manifest["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"][0]
    container["args"] = ["--port=$(PREDICTIVE_UNIT_HTTP_SERVICE_PORT)", "$$(KEPT)", "$(NOPE)", "$(GREETING)"]
    container["env"] = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}}},
        {"name": "GREETING", "value": "hello-$(POD_NAMESPACE)"},
    ]
    result, topology, _ = local_plan(manifest)
    unit = next(u for u in result.units if u.container == "classifier")
    env = dict(unit.env)
    pod = "single-model-default-0-classifier"
    assert env["POD_NAME"] == topology.instance(pod).replace("@", "-") and env["POD_NAME"].startswith(pod + "-")
    assert env["POD_NAMESPACE"] == "seldon" and env["POD_IP"] == "127.0.0.1" and "SECRET" not in env
    assert env["GREETING"] == "hello-seldon"
    http = env["PREDICTIVE_UNIT_HTTP_SERVICE_PORT"]
    assert unit.argv[-4:] == (f"--port={http}", "$(KEPT)", "$(NOPE)", "hello-seldon")
    assert http == str(dict(unit.ports)["http"])


def test_the_engine_reads_pod_annotations_from_a_local_podinfo_file():
    manifest = example("single-model.yaml")
    manifest["spec"]["annotations"] = {"seldon.io/rest-timeout": "500", "quote": 'say "hi"'}
    objects = render(parse_local(manifest), "ambassador")
    topology = Topology(objects, "seldon", CountingPorts())
    result = plan_units(objects, "seldon", "single-model", topology, "/work", podinfo_dir="/state/podinfo")
    engine = next(u for u in result.units if u.container == ENGINE_CONTAINER)
    path = f"/state/podinfo/seldon/{topology.instance('single-model-default-0-classifier')}/annotations"
    assert engine.argv[-2:] == ("--annotations_file", path)
    [(written, content)] = engine.files
    assert written == path
    assert 'seldon.io/rest-timeout="500"\n' in content and 'quote="say \\"hi\\""\n' in content
    assert content.splitlines() == sorted(content.splitlines())
    model = next(u for u in result.units if u.container == "classifier")
    assert model.files == () and "--annotations_file" not in model.argv
