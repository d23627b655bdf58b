"""Small real backends for the Envoy tests: HTTP and gRPC servers that say which backend answered.

Run as `python -m tests.ambassador.echo_backends --http NAME:PORT ... --grpc NAME:PORT ...`. Every HTTP server
answers any path with JSON {backend, path, headers, body}; `/sleep/<seconds>/...` waits first;
`/flaky/<id>/...` answers 503 the first time an id is seen and 200 afterwards; `GET /__count/<NAME>` returns
how many requests (HTTP and gRPC, `/__count` excluded) backend NAME has received. gRPC servers implement
seldon.protos.Seldon/Predict and answer with `meta.tags.backend = NAME`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections import Counter

import grpc
from aiohttp import web

from seldon_graph.proto import prediction_pb2, prediction_pb2_grpc

COUNTS: Counter = Counter()
FLAKY_SEEN: set[str] = set()


def http_app(name: str) -> web.Application:
    async def count(request: web.Request) -> web.Response:
        return web.json_response({"count": COUNTS[request.match_info["backend"]]})

    async def echo(request: web.Request) -> web.Response:
        COUNTS[name] += 1
        parts = request.path.strip("/").split("/")
        if parts[0] == "sleep" and len(parts) > 1:
            await asyncio.sleep(float(parts[1]))
        if parts[0] == "flaky" and len(parts) > 1 and parts[1] not in FLAKY_SEEN:
            FLAKY_SEEN.add(parts[1])
            return web.json_response({"backend": name, "flaky": True}, status=503)
        body = await request.text()
        return web.json_response(
            {"backend": name, "path": request.path_qs, "headers": dict(request.headers), "body": body}
        )

    app = web.Application()
    app.router.add_get("/__count/{backend}", count)
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


class Seldon(prediction_pb2_grpc.SeldonServicer):
    def __init__(self, name: str):
        self.name = name

    async def Predict(self, request, context):
        COUNTS[self.name] += 1
        reply = prediction_pb2.SeldonMessage()
        reply.CopyFrom(request)
        reply.meta.tags["backend"].string_value = self.name
        return reply


async def main(http: list[str], grpc_backends: list[str]) -> None:
    runners, servers = [], []
    for spec in http:
        name, port = spec.rsplit(":", 1)
        runner = web.AppRunner(http_app(name), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", int(port)).start()
        runners.append(runner)
    for spec in grpc_backends:
        name, port = spec.rsplit(":", 1)
        server = grpc.aio.server()
        prediction_pb2_grpc.add_SeldonServicer_to_server(Seldon(name), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        servers.append(server)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    for server in servers:
        await server.stop(1)
    for runner in runners:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", action="append", default=[])
    parser.add_argument("--grpc", action="append", default=[])
    args = parser.parse_args()
    asyncio.run(main(args.http, args.grpc))
