"""Closed-loop HTTP load against one URL: `concurrency` keep-alive connections, each sending the same request
back to back for `duration` seconds. Returns requests/s and latency percentiles.

Uses wrk when it is installed (Debian package `wrk`), else a Python asyncio generator with the same shape, so
benchmarks (the wrapper's, the engine's) run anywhere. Numbers from a 2-core machine shared with the server
under test are noisy: compare ratios measured in the same invocation, never absolute values across runs.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

WRK_SCRIPT = """
local f = io.open("{body}", "rb")
wrk.method = "{method}"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "{content_type}"
"""
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass
class LoadResult:
    """Throughput and latency of one load run (latencies in milliseconds)."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    tool: str


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match[1]) * UNITS[match[2]]


def parse_wrk(output: str) -> LoadResult:
    """A LoadResult from `wrk --latency` output."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.M))
    requests = int(re.search(r"(\d+) requests in", output)[1])
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    return LoadResult(rps, _ms(percentiles["50"]), _ms(percentiles["99"]), requests, errors, "wrk")


def run_wrk(url: str, body: bytes, content_type: str, concurrency: int, duration: float, threads: int) -> LoadResult:
    with tempfile.TemporaryDirectory() as tmp:
        body_path = Path(tmp) / "body"
        body_path.write_bytes(body)
        script = Path(tmp) / "post.lua"
        method = "POST" if body else "GET"
        script.write_text(WRK_SCRIPT.format(body=body_path, method=method, content_type=content_type))
        cmd = [
            "wrk",
            f"-t{min(threads, concurrency)}",
            f"-c{concurrency}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            str(script),
            url,
        ]
        output = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


async def _connection(host: str, port: int, request: bytes, deadline: float, latencies: list, errors: list) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2")):
                errors.append(head[:12])
            if re.search(rb"(?i)connection:\s*close", head):
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


async def _python_load(url: str, body: bytes, content_type: str, concurrency: int, duration: float) -> LoadResult:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    method = "POST" if body else "GET"
    request = (
        f"{method} {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    errors: list = []
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(
        *(_connection(parts.hostname, parts.port, request, deadline, latencies, errors) for _ in range(concurrency))
    )
    elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return LoadResult(
        len(latencies) / elapsed, quantiles[49] * 1e3, quantiles[98] * 1e3, len(latencies), len(errors), "python"
    )


def run_load(
    url: str,
    body: bytes = b"",
    content_type: str = "application/json",
    concurrency: int = 8,
    duration: float = 10.0,
    threads: int = 2,
    tool: str | None = None,
) -> LoadResult:
    """Load `url` with `concurrency` connections for `duration` s; POST `body` (GET when empty).

    `tool` forces "wrk" or "python"; by default wrk is used when it is on PATH.
    """
    use_wrk = tool == "wrk" or (tool is None and shutil.which("wrk") is not None)
    if use_wrk:
        return run_wrk(url, body, content_type, concurrency, duration, threads)
    return asyncio.run(_python_load(url, body, content_type, concurrency, duration))
