"""Engine benchmark: what the engine adds on top of its units, as same-run ratios.

    .venv/bin/python bench/engine_bench.py [--seconds 3] [--repeat 3] [--only PART]

Units are our wrapper (`seldon-core-microservice` from seldon_graph.wrappers); load comes from `wrk` (install
with `apt-get install -y wrk`), and from a small keep-alive Python client where a request depends on the previous
answer. Three parts:

1. One-node graph: p50 latency at concurrency 1 and throughput at concurrency 8 — unit called directly, through
   Envoy as a pure proxy (one worker), and through the engine. Targets: engine-added p50 <= 2x Envoy-added p50,
   engine throughput >= 60 % of direct. Repeated with the real seldon-core 1.18.2 wrapper as the unit (from the
   test venv cache) for a unit that costs what a typical model server costs. Also Envoy's own rps ratio and
   the CPU microseconds per request of the unit and of the proxy (with its children) under the c8 load: on a
   2-core machine shared by wrk, unit and proxy, a proxy's throughput ratio is bounded by what it costs per
   request next to the unit.
   Also over gRPC (sequential Seldon/Predict calls from a Python client): the unit directly vs the engine.
2. Fan-out: a COMBINER (a unit, and the built-in AVERAGE_COMBINER) over 8 children (one unit process, 16 threads)
   that each sleep 20 ms, vs one such child called directly (target <= 1.25x).
3. Large payload: a 1 MB tensor through TRANSFORMER -> MODEL -> OUTPUT_TRANSFORMER, engine vs the client calling
   the three units itself; engine CPU per request for 1 MB vs a tiny message (no decode of `data` means the
   engine's CPU barely grows with the payload) next to the cost of one orjson parse+dump of the same 1 MB.

The machine has 2 cores shared by load generator, engine, units and anything else running: numbers are noisy,
so each wrk measurement is repeated and the best run counts; compare the ratios within one invocation.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import orjson
from google.protobuf import json_format

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from seldon_graph.proto import prediction_pb2 as pb  # noqa: E402
from seldon_graph.proto import prediction_pb2_grpc as pb_grpc  # noqa: E402
from tests.support.procs import VENV_BIN, free_port, start, stop, wait_http, wait_port  # noqa: E402
from tests.support.venvs import seldon_core_bin  # noqa: E402

MODELS = {
    "Identity.py": "class Identity:\n    def predict(self, X, features_names=None):\n        return X\n",
    "Sleep20.py": "import time\n\nclass Sleep20:\n    def predict(self, X, features_names=None):\n"
    "        time.sleep(0.02)\n        return X\n",
    "Mean.py": "import numpy as np\n\nclass Mean:\n    def aggregate(self, Xs, features_names=None):\n"
    "        return np.mean(np.array(Xs), axis=0)\n",
    "Passthrough.py": "class Passthrough:\n    def transform_input(self, X, features_names=None):\n        return X\n\n"
    "    def transform_output(self, X, features_names=None):\n        return X\n",
}
SMALL = b'{"data":{"ndarray":[[1.0,2.0,3.0,4.0]]}}'
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "rb")
wrk.body = f:read("*all")
f:close()
"""


class Bench:
    def __init__(self, seconds: float, repeat: int):
        self.seconds = seconds
        self.repeat = repeat
        self.dir = Path(tempfile.mkdtemp(prefix="engine-bench-"))
        self.procs: list = []
        self.grpc_ports: dict[int, int] = {}  # HTTP port → gRPC port of the same process
        self.pids: dict[int, int] = {}  # HTTP port → pid of the process serving it
        for name, code in MODELS.items():
            (self.dir / name).write_text(code)

    def close(self) -> None:
        for proc in reversed(self.procs):
            stop(proc)
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- processes ----------------------------------------------------------------------------------------

    def unit(self, cls: str, service_type: str = "MODEL", threads: int = 1, microservice: Path | None = None) -> int:
        port, grpc_port = free_port(), free_port()
        microservice = microservice or VENV_BIN / "seldon-core-microservice"
        args = [
            str(microservice),
            cls,
            "--service-type",
            service_type,
            "--http-port",
            str(port),
            "--grpc-port",
            str(grpc_port),
            "--metrics-port",
            str(free_port()),
            "--threads",
            str(threads),
            "--log-level",
            "WARNING",
        ]
        proc = start(args, self.dir / f"unit-{port}.log", cwd=self.dir)
        self.procs.append(proc)
        wait_http(f"http://127.0.0.1:{port}/health/ping", proc=proc)
        wait_port(grpc_port, proc=proc)
        self.grpc_ports[port] = grpc_port
        self.pids[port] = proc.pid
        return port

    def engine(self, graph: dict) -> tuple[int, object]:
        port, grpc_port = free_port(), free_port()
        path = self.dir / f"predictor-{port}.json"
        path.write_text(json.dumps({"name": "bench", "graph": graph}))
        args = [
            str(VENV_BIN / "seldon-engine"),
            "--file",
            str(path),
            "--http_port",
            str(port),
            "--grpc_port",
            str(grpc_port),
            "--host",
            "127.0.0.1",
            "--log_level",
            "WARNING",
        ]
        proc = start(args, self.dir / f"engine-{port}.log")
        self.procs.append(proc)
        wait_http(f"http://127.0.0.1:{port}/ready", proc=proc)
        wait_port(grpc_port, proc=proc)
        self.grpc_ports[port] = grpc_port
        self.pids[port] = proc.pid
        return port, proc

    def envoy(self, unit_port: int) -> int:
        port = free_port()
        config = envoy_config(port, free_port(), unit_port)
        path = self.dir / f"envoy-{port}.json"
        path.write_text(json.dumps(config))
        args = [
            str(VENV_BIN / "envoy"),
            "-c",
            str(path),
            "--concurrency",
            "1",
            "--disable-hot-restart",
            "-l",
            "error",
            "--base-id",
            str(port),
        ]
        proc = start(args, self.dir / f"envoy-{port}.log")
        self.procs.append(proc)
        wait_port(port, proc=proc)
        self.pids[port] = proc.pid
        return port

    # ---- load -----------------------------------------------------------------------------------------------

    def compare(self, targets: dict[str, int], path: str, body: bytes, connections: int) -> dict[str, dict]:
        """p50 and rps of each target port under wrk. The targets take turns, `repeat` rounds, and each keeps its
        best run: other work on the shared machine only ever makes a run slower, and taking turns spreads it."""
        runs: dict[str, list] = {name: [] for name in targets}
        for _ in range(self.repeat):
            for name, port in targets.items():
                runs[name].append(self._wrk(port, path, body, connections))
        return {name: best([{"p50_ms": p50, "rps": rps} for p50, rps in found]) for name, found in runs.items()}

    def cpu_per_request(self, port: int, pids: list[int], path: str, body: bytes, connections: int) -> list[float]:
        """CPU microseconds each process of `pids` (with its children) spends per request under one wrk run."""
        before = [tree_cpu_seconds(pid) for pid in pids]
        _, rps = self._wrk(port, path, body, connections)
        return [(tree_cpu_seconds(pid) - b) / (rps * self.seconds) * 1e6 for pid, b in zip(pids, before)]

    def _wrk(self, port: int, path: str, body: bytes, connections: int) -> tuple[float, float]:
        body_file = self.dir / f"body-{len(body)}.json"
        body_file.write_bytes(body)
        script = self.dir / f"post-{len(body)}.lua"
        script.write_text(LUA.replace("{body}", str(body_file)))
        threads = 1 if connections == 1 else 2
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{self.seconds:g}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if "Non-2xx" in out or "Socket errors" in out:
            raise RuntimeError(f"wrk saw errors against :{port}{path}\n{out}")
        return _wrk_latency(out, "50%"), float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])


def _wrk_latency(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{re.escape(percentile)}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def envoy_config(port: int, admin_port: int, unit_port: int) -> dict:
    router = {
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
    }
    manager = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "bench",
        "route_config": {
            "virtual_hosts": [
                {
                    "name": "unit",
                    "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "unit", "timeout": "0s"}}],
                }
            ]
        },
        "http_filters": [router],
    }
    endpoint = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": unit_port}}}
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}},
        "static_resources": {
            "listeners": [
                {
                    "name": "bench",
                    "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
                    "filter_chains": [
                        {
                            "filters": [
                                {"name": "envoy.filters.network.http_connection_manager", "typed_config": manager}
                            ]
                        }
                    ],
                }
            ],
            "clusters": [
                {
                    "name": "unit",
                    "type": "STATIC",
                    "connect_timeout": "1s",
                    "load_assignment": {
                        "cluster_name": "unit",
                        "endpoints": [{"lb_endpoints": [{"endpoint": endpoint}]}],
                    },
                }
            ],
        },
    }


class Client:
    """A keep-alive HTTP client for request chains that wrk cannot express."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port)

    def post(self, path: str, body: bytes) -> bytes:
        self.connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")
        return data


def timed(calls, count: int) -> dict:
    """p50 latency and rate of `count` sequential calls (after a warm-up)."""
    for _ in range(3):
        calls()
    durations = []
    started = time.perf_counter()
    for _ in range(count):
        begin = time.perf_counter()
        calls()
        durations.append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - started
    return {"p50_ms": statistics.median(durations) * 1000, "rps": count / elapsed}


def best(results: list[dict]) -> dict:
    """The best p50 and rate among repeated measurements of one target."""
    return {"p50_ms": min(r["p50_ms"] for r in results), "rps": max(r["rps"] for r in results)}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and all its descendants (a unit runs its REST and gRPC servers as children)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            children.setdefault(int(stat.read_text().rsplit(")", 1)[1].split()[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError):
            total += cpu_seconds(current)
        todo.extend(children.get(current, ()))
    return total


def engine_cpu_per_request(port: int, proc, body: bytes, count: int) -> float:
    client = Client(port)
    client.post("/api/v1.0/predictions", body)
    before = cpu_seconds(proc.pid)
    for _ in range(count):
        client.post("/api/v1.0/predictions", body)
    return (cpu_seconds(proc.pid) - before) / count * 1000


def large_tensor(size: int = 1_000_000) -> bytes:
    """A 1-D tensor message of about `size` bytes of JSON (1-D: a 2-D output gets one name per column)."""
    numbers = [repr((i % 4000) / 4) for i in range(size // 4)]  # short, exact reprs: units re-encode them alike
    total, count = 0, 0
    while total < size - 64:
        total += len(numbers[count]) + 1
        count += 1
    values = ",".join(numbers[:count])
    return f'{{"data":{{"tensor":{{"shape":[{count}],"values":[{values}]}}}}}}'.encode()


def one_node(bench: Bench, microservice: Path | None = None, label: str = "one-node") -> list[tuple]:
    unit = bench.unit("Identity", microservice=microservice)
    envoy = bench.envoy(unit)
    engine, _ = bench.engine(
        {"name": "model", "type": "MODEL", "endpoint": {"service_host": "127.0.0.1", "httpPort": unit}}
    )
    targets = {"direct": unit, "envoy": envoy, "engine": engine}
    latency = bench.compare(targets, "/api/v1.0/predictions", SMALL, 1)
    throughput = bench.compare(targets, "/api/v1.0/predictions", SMALL, 8)
    rows = {name: (latency[name], throughput[name]) for name in targets}
    direct_p50 = rows["direct"][0]["p50_ms"]
    envoy_added = rows["envoy"][0]["p50_ms"] - direct_p50
    engine_added = rows["engine"][0]["p50_ms"] - direct_p50
    cpu = {}  # target → (unit, proxy) CPU us/request, the best of `repeat` runs each
    for name, port in targets.items():
        runs = [
            bench.cpu_per_request(port, [bench.pids[unit], bench.pids[port]], "/api/v1.0/predictions", SMALL, 8)
            for _ in range(bench.repeat)
        ]
        cpu[name] = min(runs, key=sum)
    return [
        (f"{label} p50 @c1 (ms): direct / envoy / engine", " / ".join(f"{rows[n][0]['p50_ms']:.2f}" for n in rows)),
        (f"{label} added p50 (ms): envoy / engine", f"{envoy_added:.2f} / {engine_added:.2f}"),
        (
            f"{label} engine-added / envoy-added p50 (target <= 2)",
            f"{engine_added / envoy_added:.2f}" if envoy_added > 0 else "n/a (envoy added nothing measurable)",
        ),
        (f"{label} rps @c8: direct / envoy / engine", " / ".join(f"{rows[n][1]['rps']:.0f}" for n in rows)),
        (
            f"{label} engine rps / direct rps @c8 (target >= 0.60)",
            f"{rows['engine'][1]['rps'] / rows['direct'][1]['rps']:.2f}",
        ),
        (
            f"{label} envoy rps / direct rps @c8 (a C++ proxy on the same cores)",
            f"{rows['envoy'][1]['rps'] / rows['direct'][1]['rps']:.2f}",
        ),
        (
            f"{label} CPU us/request @c8, unit + proxy: direct / envoy / engine",
            f"{cpu['direct'][0]:.0f} / {cpu['envoy'][0]:.0f} + {cpu['envoy'][1]:.0f} / "
            f"{cpu['engine'][0]:.0f} + {cpu['engine'][1]:.0f}",
        ),
    ]


def fan_out(bench: Bench) -> list[tuple]:
    child = bench.unit("Sleep20", threads=16)
    combiner = bench.unit("Mean", "COMBINER")
    children = [
        {"name": f"child{i}", "type": "MODEL", "endpoint": {"service_host": "127.0.0.1", "httpPort": child}}
        for i in range(8)
    ]
    engine, _ = bench.engine(
        {
            "name": "mean",
            "type": "COMBINER",
            "children": children,
            "endpoint": {"service_host": "127.0.0.1", "httpPort": combiner},
        }
    )
    builtin, _ = bench.engine(
        {"name": "mean", "type": "COMBINER", "implementation": "AVERAGE_COMBINER", "children": children}
    )
    body = b'{"data":{"ndarray":[[1.0,2.0,3.0,4.0]]}}'
    found = bench.compare({"direct": child, "through": engine, "in_engine": builtin}, "/api/v1.0/predictions", body, 1)
    direct, through, in_engine = found["direct"], found["through"], found["in_engine"]
    return [
        (
            "fan-out p50 (ms): one child direct / combiner unit over 8 / AVERAGE_COMBINER over 8",
            f"{direct['p50_ms']:.1f} / {through['p50_ms']:.1f} / {in_engine['p50_ms']:.1f}",
        ),
        (
            "fan-out latency / one child: combiner unit (target <= 1.25) / built-in",
            f"{through['p50_ms'] / direct['p50_ms']:.2f} / {in_engine['p50_ms'] / direct['p50_ms']:.2f}",
        ),
    ]


def grpc_one_node(bench: Bench, count: int) -> list[tuple]:
    """p50 of sequential Seldon/Predict calls: the unit directly vs the engine with the node over gRPC."""
    unit = bench.unit("Identity")
    engine, engine_proc = bench.engine(
        {
            "name": "model",
            "type": "MODEL",
            "endpoint": {"service_host": "127.0.0.1", "type": "GRPC", "grpcPort": bench.grpc_ports[unit]},
        }
    )
    message = json_format.ParseDict({"data": {"ndarray": [[1.0, 2.0, 3.0, 4.0]]}}, pb.SeldonMessage())
    results = {}
    for name, port in (("direct", bench.grpc_ports[unit]), ("engine", bench.grpc_ports[engine])):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            predict = pb_grpc.SeldonStub(channel).Predict
            results[name] = timed(lambda call=predict: call(message, timeout=10), count)
    added = results["engine"]["p50_ms"] - results["direct"]["p50_ms"]
    return [
        (
            "gRPC one-node p50 @c1 (ms): direct / engine (added)",
            f"{results['direct']['p50_ms']:.2f} / {results['engine']['p50_ms']:.2f} ({added:.2f})",
        )
    ]


def large_payload(bench: Bench, count: int) -> list[tuple]:
    transformer = bench.unit("Passthrough", "TRANSFORMER")
    model = bench.unit("Identity")
    output = bench.unit("Passthrough", "TRANSFORMER")
    graph = {
        "name": "in",
        "type": "TRANSFORMER",
        "endpoint": {"service_host": "127.0.0.1", "httpPort": transformer},
        "children": [
            {
                "name": "model",
                "type": "MODEL",
                "endpoint": {"service_host": "127.0.0.1", "httpPort": model},
                "children": [
                    {
                        "name": "out",
                        "type": "OUTPUT_TRANSFORMER",
                        "endpoint": {"service_host": "127.0.0.1", "httpPort": output},
                    }
                ],
            }
        ],
    }
    engine, proc = bench.engine(graph)
    body = large_tensor()
    clients = [Client(p) for p in (transformer, model, output)]

    def direct_chain():
        reply = clients[0].post("/transform-input", body)
        reply = clients[1].post("/predict", reply)
        clients[2].post("/transform-output", reply)

    via = Client(engine)
    rounds = [
        (timed(direct_chain, count), timed(lambda: via.post("/api/v1.0/predictions", body), count))
        for _ in range(bench.repeat)
    ]
    direct, through = (best([pair[i] for pair in rounds]) for i in (0, 1))
    cpu_large = engine_cpu_per_request(engine, proc, body, count)
    cpu_small = engine_cpu_per_request(engine, proc, SMALL, count * 5)
    started = time.perf_counter()
    for _ in range(10):
        orjson.dumps(orjson.loads(body))
    decode_ms = (time.perf_counter() - started) / 10 * 1000
    return [
        ("1 MB T->M->OT rps @c1: client chains units / engine", f"{direct['rps']:.1f} / {through['rps']:.1f}"),
        ("1 MB engine rps / direct chain rps", f"{through['rps'] / direct['rps']:.2f}"),
        ("1 MB engine p50 (ms): direct chain / engine", f"{direct['p50_ms']:.1f} / {through['p50_ms']:.1f}"),
        ("engine CPU per request (ms): 1 MB / 40-byte message", f"{cpu_large:.2f} / {cpu_small:.2f}"),
        ("one orjson parse+dump of that 1 MB (ms, for scale)", f"{decode_ms:.2f}"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each wrk run")
    parser.add_argument("--repeat", type=int, default=3, help="wrk runs per measurement; the best one counts")
    parser.add_argument("--count", type=int, default=40, help="sequential requests in the 1 MB part")
    parser.add_argument(
        "--only",
        choices=["one-node", "seldon-core-unit", "grpc", "fan-out", "large"],
        action="append",
        help="run only these parts (default: all)",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    bench = Bench(args.seconds, args.repeat)
    rows = []
    with contextlib.ExitStack() as stack:
        stack.callback(bench.close)
        parts = {
            "one-node": one_node,
            "seldon-core-unit": lambda b: one_node(
                b, seldon_core_bin() / "seldon-core-microservice", "one-node (seldon-core 1.18.2 unit)"
            ),
            "grpc": lambda b: grpc_one_node(b, args.count * 25),
            "fan-out": fan_out,
            "large": lambda b: large_payload(b, args.count),
        }
        for name, part in parts.items():
            if not args.only or name in args.only:
                rows += part(bench)
    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)} | value")
    print(f"{'-' * width}-|------")
    for name, value in rows:
        print(f"{name.ljust(width)} | {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
