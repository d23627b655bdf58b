"""V2 (Open Inference Protocol) benchmark: what the engine adds in front of MLServer, as same-run ratios.

    .venv/bin/python bench/v2_bench.py [--seconds 5] [--count 300] [--repeat 3] [--only one-node|binary]

1. One-node V2 graph, the real MLServer 1.7.1 (scikit-learn classifier, built under .cache/ like the tests'):
   p50 at concurrency 1 of MLServer directly, through Envoy as a pure proxy, and through the engine; the target is
   engine-added p50 <= 2x Envoy-added p50. Then throughput at concurrency 8, engine vs MLServer directly (target
   >= 0.9: MLServer, not the engine, must be the bottleneck).
2. A 1,000 x 100 FP32 tensor in binary form (the `Inference-Header-Content-Length` extension) through two chained
   nodes: the engine vs the client chaining the two calls itself (renaming outputs to inputs in the JSON header);
   the target is engine rate / client-chaining rate >= 0.9. MLServer has no binary extension, so both nodes are the
   tests' V2 unit (tests/engine/v2_unit.py, which doubles the tensor with numpy).

The machine has 2 cores shared by the load generator, the servers and anything else running: each measurement
takes turns and keeps its best of `--repeat` rounds; compare the ratios within one invocation.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.engine_bench import best, envoy_config, timed  # noqa: E402
from bench.loadgen import run_load  # noqa: E402
from tests.support.mlserver import mlserver_running  # noqa: E402
from tests.support.procs import VENV_BIN, free_port, start, stop, wait_http, wait_port  # noqa: E402

ROWS = [[0.1, 0.2, 0.0, 0.1]]
SMALL = orjson.dumps({"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": ROWS}]})
HEADER = "Inference-Header-Content-Length"


class Servers:
    """Processes started for the benchmark, stopped at the end."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="v2-bench-"))
        self.procs: list = []

    def engine(self, graph: dict) -> int:
        port, grpc_port = free_port(), free_port()
        path = self.dir / f"predictor-{port}.json"
        path.write_text(json.dumps({"name": "bench", "graph": graph}))
        args = [str(VENV_BIN / "seldon-engine"), "--file", str(path), "--protocol", "v2", "--http_port", str(port)]
        args += ["--grpc_port", str(grpc_port), "--host", "127.0.0.1", "--log_level", "WARNING"]
        proc = start(args, self.dir / f"engine-{port}.log")
        self.procs.append(proc)
        wait_http(f"http://127.0.0.1:{port}/ready", proc=proc)
        return port

    def envoy(self, unit_port: int) -> int:
        port = free_port()
        path = self.dir / f"envoy-{port}.json"
        path.write_text(json.dumps(envoy_config(port, free_port(), unit_port)))
        args = [str(VENV_BIN / "envoy"), "-c", str(path), "--concurrency", "1", "--disable-hot-restart", "-l", "error"]
        proc = start([*args, "--base-id", str(port)], self.dir / f"envoy-{port}.log")
        self.procs.append(proc)
        wait_port(port, proc=proc)
        return port

    def v2_unit(self) -> int:
        port = free_port()
        proc = start([sys.executable, str(ROOT / "tests" / "engine" / "v2_unit.py"), str(port)], self.dir / "unit.log")
        self.procs.append(proc)
        wait_port(port, proc=proc)
        return port

    def close(self) -> None:
        for proc in self.procs:
            stop(proc)


class Client:
    """A keep-alive client that posts JSON or binary V2 bodies and returns (headers, body)."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port)

    def post(self, path: str, body: bytes, headers: dict | None = None) -> tuple[dict, bytes]:
        self.connection.request("POST", path, body, headers or {"Content-Type": "application/json"})
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")
        return dict(response.getheaders()), data


def one_node(servers: Servers, mlserver, seconds: float, count: int, repeat: int) -> list[tuple]:
    endpoint = {"service_host": "127.0.0.1", "type": "REST", "httpPort": mlserver.http_port}
    targets = {
        "direct": mlserver.http_port,
        "envoy": servers.envoy(mlserver.http_port),
        "engine": servers.engine({"name": "classifier", "type": "MODEL", "endpoint": endpoint}),
    }
    path = "/v2/models/classifier/infer"
    latency: dict[str, list] = {name: [] for name in targets}
    rate: dict[str, list] = {name: [] for name in ("direct", "engine")}
    for _ in range(repeat):
        for name, port in targets.items():
            client = Client(port)
            latency[name].append(timed(lambda client=client: client.post(path, SMALL), count))
        for name in rate:
            url = f"http://127.0.0.1:{targets[name]}{path}"
            rate[name].append(run_load(url, SMALL, concurrency=8, duration=seconds).rps)
    p50 = {name: best(results)["p50_ms"] for name, results in latency.items()}
    envoy_added, engine_added = p50["envoy"] - p50["direct"], p50["engine"] - p50["direct"]
    rps = {name: max(values) for name, values in rate.items()}
    return [
        ("one-node p50 @c1 (ms): MLServer / Envoy / engine", " / ".join(f"{p50[n]:.2f}" for n in p50)),
        ("added p50 (ms): Envoy / engine", f"{envoy_added:.2f} / {engine_added:.2f}"),
        (
            "engine-added / Envoy-added p50 (target <= 2)",
            f"{engine_added / envoy_added:.2f}" if envoy_added > 0 else "n/a",
        ),
        ("rps @c8: MLServer / engine", f"{rps['direct']:.0f} / {rps['engine']:.0f}"),
        ("engine rps / MLServer rps (target >= 0.9)", f"{rps['engine'] / rps['direct']:.2f}"),
    ]


def binary_chain(servers: Servers, count: int, repeat: int) -> list[tuple]:
    unit = servers.v2_unit()
    endpoint = {"service_host": "127.0.0.1", "type": "REST", "httpPort": unit}
    second = {"name": "second", "type": "MODEL", "endpoint": endpoint}
    engine = servers.engine({"name": "first", "type": "TRANSFORMER", "endpoint": endpoint, "children": [second]})
    tensor = np.random.default_rng(1).random((1000, 100), dtype=np.float32).tobytes()
    header = {
        "inputs": [{"name": "x", "shape": [1000, 100], "datatype": "FP32", "parameters": {"binary_data_size": 400000}}],
        "parameters": {"binary_data_output": True},
    }
    document = orjson.dumps(header)
    headers = {"Content-Type": "application/octet-stream", HEADER: str(len(document))}
    through, direct = Client(engine), Client(unit)

    def engine_call() -> None:
        through.post("/v2/models/infer", document + tensor, headers)

    def client_chain() -> None:
        reply_headers, reply = direct.post("/v2/models/first/infer", document + tensor, headers)
        length = int(reply_headers[HEADER])
        first = orjson.loads(reply[:length])
        chained = orjson.dumps({"inputs": first["outputs"], "parameters": first["parameters"]})
        direct.post("/v2/models/second/infer", chained + reply[length:], {**headers, HEADER: str(len(chained))})

    results: dict[str, list] = {"client": [], "engine": []}
    for _ in range(repeat):
        results["client"].append(timed(client_chain, count))
        results["engine"].append(timed(engine_call, count))
    rates = {name: best(values)["rps"] for name, values in results.items()}
    return [
        (
            "binary 1000x100 FP32, two nodes, req/s: client chaining / engine",
            f"{rates['client']:.0f} / {rates['engine']:.0f}",
        ),
        ("engine / client chaining (target >= 0.9)", f"{rates['engine'] / rates['client']:.2f}"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput run")
    parser.add_argument("--count", type=int, default=300, help="sequential requests per latency run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("one-node", "binary"), help="run only this part (default: both)")
    args = parser.parse_args(argv)
    servers = Servers()
    rows: list[tuple] = []
    try:
        if args.only != "binary":
            with mlserver_running(servers.dir / "mlserver") as mlserver:
                rows += one_node(servers, mlserver, args.seconds, args.count, args.repeat)
        if args.only != "one-node":
            rows += binary_chain(servers, max(args.count // 10, 20), args.repeat)
    finally:
        servers.close()
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
