"""A minimal V2 (Open Inference Protocol) unit with the binary tensor data extension, which MLServer lacks.

Model `doubler` doubles every FP32 input (JSON `data` or binary), answering binary outputs when the request
asked for them; model `notv2` answers a body that is not a V2 response. Run: python v2_unit.py PORT
"""

import sys

import numpy as np
import orjson
from aiohttp import web

HEADER = "Inference-Header-Content-Length"


async def infer(request: web.Request) -> web.Response:
    model = request.match_info["model"]
    body = await request.read()
    if model == "notv2":
        return web.json_response({"hello": "world"})
    length = int(request.headers.get(HEADER, len(body)))
    header, binary = orjson.loads(body[:length]), body[length:]
    binary_out = bool((header.get("parameters") or {}).get("binary_data_output"))
    outputs, raw, offset = [], [], 0
    for tensor in header["inputs"]:
        size = (tensor.get("parameters") or {}).get("binary_data_size")
        if size is not None:
            values = np.frombuffer(binary[offset : offset + size], dtype=np.float32)
            offset += size
        else:
            values = np.asarray(tensor["data"], dtype=np.float32).ravel()
        doubled = values * 2
        output = {"name": f"{tensor['name']}_doubled", "datatype": "FP32", "shape": tensor["shape"]}
        if binary_out or size is not None:
            output["parameters"] = {"binary_data_size": doubled.nbytes}
            raw.append(doubled.tobytes())
        else:
            output["data"] = doubled.tolist()
        outputs.append(output)
    reply = {"model_name": model, "id": header.get("id", ""), "parameters": header.get("parameters", {})}
    reply["outputs"] = outputs
    document = orjson.dumps(reply)
    if not raw:
        return web.Response(body=document, content_type="application/json")
    headers = {HEADER: str(len(document))}
    return web.Response(body=document + b"".join(raw), content_type="application/octet-stream", headers=headers)


async def metadata(request: web.Request) -> web.Response:
    name = request.match_info["model"]
    return web.json_response({"name": name, "versions": [], "platform": "test", "inputs": [], "outputs": []})


app = web.Application(client_max_size=1 << 30)
app.router.add_post("/v2/models/{model}/infer", infer)
app.router.add_get("/v2/models/{model}", metadata)
app.router.add_get("/v2/models/{model}/ready", lambda request: web.Response(status=200))
app.router.add_get("/v2/health/ready", lambda request: web.Response(status=200))

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
