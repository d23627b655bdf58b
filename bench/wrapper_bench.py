"""Throughput and latency of the same trivial model (X*2) behind our wrapper, the real seldon-core 1.18.2 wrapper
and MLServer 1.7.1, each with its default worker count, in one invocation.

    .venv/bin/python bench/wrapper_bench.py [--duration 10] [--concurrency 8] [--skip-mlserver]

Builds the reference venvs under .cache/ on first use (seldon-core: ~20 s, MLServer: ~1 min), runs the servers
one after the other on free ports with the same load (wrk if installed, else bench/loadgen.py's Python
generator), and prints requests/s, p50, p99 and the ratios ours/seldon-core and ours/MLServer, plus a large
payload case (a 1,000 × 100 float tensor) against seldon-core. The machine is shared and small: read ratios.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.loadgen import LoadResult, run_load  # noqa: E402
from tests.support.procs import VENV_BIN, free_port, start, stop, wait_http  # noqa: E402
from tests.support.venvs import SELDON_CORE, ensure_venv  # noqa: E402

# uvloop 0.22+ breaks MLServer 1.7.1's parallel workers ("no current event loop"), so it is pinned next to it.
MLSERVER = ["mlserver==1.7.1", "uvloop<0.22"]
MLSERVER_VENV = "mlserver-1.7.1-uvloop0.21"

SELDON_MODEL = """
class Doubler:
    def predict(self, X, features_names=None):
        return X * 2
"""
MLSERVER_RUNTIME = """
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class Doubler(MLModel):
    async def load(self) -> bool:
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        x = NumpyCodec.decode_input(payload.inputs[0])
        return InferenceResponse(model_name=self.name, outputs=[NumpyCodec.encode_output("output", x * 2)])
"""
SMALL = json.dumps({"data": {"ndarray": [[1.0, 2.0, 3.0, 4.0]]}}).encode()
SMALL_V2 = json.dumps(
    {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1.0, 2.0, 3.0, 4.0]}]}
).encode()


def large_tensor() -> bytes:
    values = [float(i % 997) / 7.0 for i in range(1000 * 100)]
    return json.dumps({"data": {"tensor": {"shape": [1000, 100], "values": values}}}).encode()


@dataclass
class Server:
    name: str
    cmd: list
    ready_url: str
    predict_url: str
    cwd: Path
    env: dict | None = None


def seldon_servers(work: Path, seldon_bin: Path) -> list[Server]:
    (work / "Doubler.py").write_text(SELDON_MODEL)
    servers = []
    for name, binary in (("seldon-graph", VENV_BIN), ("seldon-core 1.18.2", seldon_bin)):
        http, grpc, metrics = free_port(), free_port(), free_port()
        cmd = [
            str(binary / "seldon-core-microservice"),
            "Doubler",
            "--http-port",
            str(http),
            "--grpc-port",
            str(grpc),
            "--metrics-port",
            str(metrics),
        ]
        ready = f"http://127.0.0.1:{http}/ready" if binary == VENV_BIN else f"http://127.0.0.1:{http}/health/ping"
        servers.append(Server(name, cmd, ready, f"http://127.0.0.1:{http}/api/v1.0/predictions", work))
    return servers


def mlserver_server(work: Path, mlserver_bin: Path) -> Server:
    folder = work / "mlserver"
    folder.mkdir(exist_ok=True)
    (folder / "runtime.py").write_text(MLSERVER_RUNTIME)
    http, grpc, metrics = free_port(), free_port(), free_port()
    (folder / "settings.json").write_text(json.dumps({"http_port": http, "grpc_port": grpc, "metrics_port": metrics}))
    (folder / "model-settings.json").write_text(json.dumps({"name": "doubler", "implementation": "runtime.Doubler"}))
    base = f"http://127.0.0.1:{http}/v2/models/doubler"
    return Server(
        "MLServer 1.7.1",
        [str(mlserver_bin / "mlserver"), "start", str(folder)],
        f"{base}/ready",
        f"{base}/infer",
        folder,
    )


def measure(server: Server, body: bytes, logs: Path, concurrency: int, duration: float) -> LoadResult:
    proc = start(server.cmd, logs / f"{server.name.split()[0]}.log", env=server.env, cwd=server.cwd)
    try:
        wait_http(server.ready_url, timeout=120, proc=proc)
        run_load(server.predict_url, body, concurrency=concurrency, duration=min(2.0, duration))  # warm-up
        return run_load(server.predict_url, body, concurrency=concurrency, duration=duration)
    finally:
        stop(proc)


def row(name: str, result: LoadResult) -> str:
    return f"| {name:<22} | {result.rps:>10.0f} | {result.p50_ms:>8.2f} | {result.p99_ms:>8.2f} | {result.errors:>6} |"


def ratio_line(label: str, ours: LoadResult, other: LoadResult) -> str:
    return (
        f"{label}: throughput x{ours.rps / other.rps:.1f}, p50 {ours.p50_ms:.2f} vs {other.p50_ms:.2f} ms, "
        f"p99 {ours.p99_ms:.2f} vs {other.p99_ms:.2f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per server and case")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--skip-mlserver", action="store_true")
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args(argv)

    seldon_bin = ensure_venv("seldon-core-1.18.2", SELDON_CORE)
    mlserver_bin = None if args.skip_mlserver else ensure_venv(MLSERVER_VENV, MLSERVER)
    with tempfile.TemporaryDirectory(prefix="wrapper-bench-") as tmp:
        work = Path(tmp)
        ours, seldon = seldon_servers(work, seldon_bin)
        header = [
            "| server                 |      req/s |  p50 ms |  p99 ms | errors |",
            "|------------------------|-----------:|--------:|--------:|-------:|",
        ]
        print(
            f"small payload {SMALL.decode()}, concurrency {args.concurrency}, {args.duration:.0f} s, default workers",
            flush=True,
        )
        small = {s.name: measure(s, SMALL, work, args.concurrency, args.duration) for s in (ours, seldon)}
        if mlserver_bin is not None:
            server = mlserver_server(work, mlserver_bin)
            small[server.name] = measure(server, SMALL_V2, work, args.concurrency, args.duration)
        print("\n".join(header + [row(name, result) for name, result in small.items()]))
        print(ratio_line("ours/seldon-core", small[ours.name], small[seldon.name]))
        if mlserver_bin is not None:
            print(ratio_line("ours/MLServer", small[ours.name], small["MLServer 1.7.1"]))
        if not args.skip_large:
            body = large_tensor()
            print(f"\nlarge payload: 1,000 x 100 float tensor ({len(body) / 1e6:.1f} MB JSON)", flush=True)
            large = {s.name: measure(s, body, work, args.concurrency, args.duration) for s in (ours, seldon)}
            print("\n".join(header + [row(name, result) for name, result in large.items()]))
            print(ratio_line("ours/seldon-core", large[ours.name], large[seldon.name]))
        print(f"\nload generator: {next(iter(small.values())).tool}; {time.strftime('%Y-%m-%d %H:%M:%S')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
