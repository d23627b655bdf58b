"""Tracing benchmark: engine throughput with tracing off vs a baseline engine (today's main), and with tracing on
at sampling 1.0 and 0.01, as same-run ratios.

    .venv/bin/python bench/tracing_bench.py --baseline-engine /path/to/main-venv/bin/seldon-engine [--seconds 5]

One unit (our wrapper, X returned as is) and four engines serving the same one-node graph on free ports: the
baseline binary, ours with tracing off, ours with TRACING=1 and OTEL_TRACES_SAMPLER_ARG 1.0, and 0.01. The traced
engines export over OTLP/gRPC to a collector started here (tests/support/otlp.py), so export costs are real.
Each round loads every engine in turn (wrk, concurrency 8); the best round per engine counts. Target: tracing
off >= 0.98 of the baseline. The machine is small and shared: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.loadgen import run_load  # noqa: E402
from tests.support.otlp import collector_running  # noqa: E402
from tests.support.procs import VENV_BIN, free_port, start, stop, wait_http  # noqa: E402

BODY = b'{"data":{"ndarray":[[1.0,2.0,3.0,4.0]]}}'
IDENTITY = "class Identity:\n    def predict(self, X, features_names=None):\n        return X\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-engine", required=True, help="the seldon-engine executable to compare with")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each load run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all engines; the best per engine counts")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="tracing-bench-"))
    (workdir / "Identity.py").write_text(IDENTITY)
    with contextlib.ExitStack() as stack, collector_running() as collector:
        unit_port = free_port()
        unit = start(
            [
                str(VENV_BIN / "seldon-core-microservice"),
                "Identity",
                "--http-port",
                str(unit_port),
                "--grpc-workers",
                "0",
                "--metrics-port",
                str(free_port()),
            ],
            workdir / "unit.log",
            cwd=workdir,
        )
        stack.callback(stop, unit)
        wait_http(f"http://127.0.0.1:{unit_port}/ready", proc=unit)
        spec = workdir / "predictor.json"
        endpoint = {"service_host": "127.0.0.1", "type": "REST", "httpPort": unit_port}
        spec.write_text(json.dumps({"name": "p", "graph": {"name": "m", "type": "MODEL", "endpoint": endpoint}}))
        traced = {"TRACING": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}"}
        variants = {
            "baseline (main)": (args.baseline_engine, {}),
            "tracing off": (str(VENV_BIN / "seldon-engine"), {}),
            "tracing on, 1.0": (str(VENV_BIN / "seldon-engine"), {**traced, "OTEL_TRACES_SAMPLER_ARG": "1.0"}),
            "tracing on, 0.01": (str(VENV_BIN / "seldon-engine"), {**traced, "OTEL_TRACES_SAMPLER_ARG": "0.01"}),
        }
        urls = {}
        for number, (name, (binary, env)) in enumerate(variants.items()):
            port = free_port()
            env = {**env, "OTEL_TRACES_SAMPLER": "traceidratio"} if env else env
            command = [binary, "--file", str(spec), "--http_port", str(port), "--grpc_port", str(free_port())]
            proc = start([*command, "--host", "127.0.0.1"], workdir / f"engine-{number}.log", env=env)
            stack.callback(stop, proc)
            wait_http(f"http://127.0.0.1:{port}/ready", proc=proc)
            urls[name] = f"http://127.0.0.1:{port}/api/v1.0/predictions"
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            for name, url in urls.items():
                result = run_load(url, BODY, concurrency=8, duration=args.seconds)
                best[name] = max(best.get(name, 0.0), result.rps)
        spans = len(collector.spans)
    for name, rps in best.items():
        print(f"{name:<20} {rps:9.0f} req/s")
    off = best["tracing off"]
    print(f"tracing off / baseline      {off / best['baseline (main)']:.3f}  (target >= 0.98)")
    print(f"tracing on 1.0 / off        {best['tracing on, 1.0'] / off:.3f}")
    print(f"tracing on 0.01 / off       {best['tracing on, 0.01'] / off:.3f}")
    print(f"spans received by the collector: {spans}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
