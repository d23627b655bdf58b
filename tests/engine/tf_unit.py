"""A small TensorFlow-Serving-compatible unit for the tests, REST and gRPC: every model doubles its input.

REST `POST /v1/models/<name>:predict` answers `{"predictions": instances × 2}` (model `broken` answers a body
with no predictions); gRPC `tensorflow.serving.PredictionService/Predict` answers each float input doubled as
output `<input>_doubled`. Model `refusing` refuses every request: REST 422 `{"error": REFUSAL}`, gRPC
INVALID_ARGUMENT. Run: python tf_unit.py HTTP_PORT GRPC_PORT
"""

import asyncio
import sys

import grpc
from aiohttp import web

from seldon_graph.proto import tensorflow_serving_pb2 as pb

REFUSAL = "refused by the model"


def doubled(value):
    return [doubled(item) for item in value] if isinstance(value, list) else value * 2


async def predict(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    body = await request.json()
    if name == "broken":
        return web.json_response({"unexpected": True})
    if name == "refusing":
        return web.json_response({"error": REFUSAL}, status=422)
    if "instances" not in body:
        return web.json_response({"error": "Missing 'instances' key"}, status=400)
    return web.json_response({"predictions": doubled(body["instances"])})


async def status(request: web.Request) -> web.Response:
    state = {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    return web.json_response({"model_version_status": [state]})


async def metadata(request: web.Request) -> web.Response:
    return web.json_response({"model_spec": {"name": request.match_info["name"], "version": "1"}, "metadata": {}})


async def grpc_predict(request: pb.PredictRequest, context) -> pb.PredictResponse:
    if request.model_spec.name == "refusing":
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, REFUSAL)
    reply = pb.PredictResponse(model_spec=pb.ModelSpec(name=request.model_spec.name))
    for key, tensor in request.inputs.items():
        out = reply.outputs[f"{key}_doubled"]
        out.CopyFrom(tensor)
        del out.float_val[:]
        out.float_val.extend(value * 2 for value in tensor.float_val)
    return reply


async def grpc_metadata(request: pb.GetModelMetadataRequest, context) -> pb.GetModelMetadataResponse:
    return pb.GetModelMetadataResponse(model_spec=request.model_spec)


async def main(http_port: int, grpc_port: int) -> None:
    server = grpc.aio.server()
    handlers = {
        "Predict": grpc.unary_unary_rpc_method_handler(
            grpc_predict, pb.PredictRequest.FromString, pb.PredictResponse.SerializeToString
        ),
        "GetModelMetadata": grpc.unary_unary_rpc_method_handler(
            grpc_metadata, pb.GetModelMetadataRequest.FromString, pb.GetModelMetadataResponse.SerializeToString
        ),
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("tensorflow.serving.PredictionService", handlers),)
    )
    server.add_insecure_port(f"127.0.0.1:{grpc_port}")
    await server.start()
    app = web.Application()
    app.router.add_post("/v1/models/{name:[^/:]+}:predict", predict)
    app.router.add_get("/v1/models/{name}", status)
    app.router.add_get("/v1/models/{name}/metadata", metadata)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", http_port).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
