"""A minimal unit speaking the Seldon microservice REST API, for what the real wrapper cannot show.

It echoes the request message and reports, as tags, the headers it received (puid, a custom header), so tests
can see what the engine forwards. Run: python echo_unit.py PORT
"""

import sys

import orjson
from aiohttp import web


async def echo(request: web.Request) -> web.Response:
    body = orjson.loads(await request.read())
    meta = body.setdefault("meta", {})
    meta["tags"] = {
        **(meta.get("tags") or {}),
        "seen_puid_header": request.headers.get("Seldon-Puid", ""),
        "seen_custom_header": request.headers.get("X-Custom", ""),
        "seen_authorization": request.headers.get("Authorization", ""),
        "seen_meta_puid": meta.get("puid", ""),
    }
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def metadata(request: web.Request) -> web.Response:
    return web.json_response({"name": "echo", "versions": ["v0"], "platform": "echo", "inputs": [], "outputs": []})


app = web.Application()
app.router.add_post("/{step}", echo)
app.router.add_get("/metadata", metadata)
app.router.add_get("/health/status", lambda request: web.json_response({"strData": "healthy"}))

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
