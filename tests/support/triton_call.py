"""Call a V2 server with the real tritonclient (run in the MLServer venv, which has it).

python triton_call.py http|grpc HOST:PORT MODEL "[[...], ...]"  → prints {"outputs": {name: flat values}}
The input is sent as one FP64 tensor `input-0` (JSON data over HTTP: MLServer has no binary extension).
"""

import json
import sys

import numpy as np


def main() -> None:
    transport, target, model, rows = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    values = np.asarray(rows, dtype=np.float64)
    if transport == "http":
        import tritonclient.http as client

        triton = client.InferenceServerClient(url=target)
        tensor = client.InferInput("input-0", list(values.shape), "FP64")
        tensor.set_data_from_numpy(values, binary_data=False)
        result = triton.infer(model, [tensor])
    else:
        import tritonclient.grpc as client

        triton = client.InferenceServerClient(url=target)
        tensor = client.InferInput("input-0", list(values.shape), "FP64")
        tensor.set_data_from_numpy(values)
        result = triton.infer(model, [tensor])
    response = result.get_response()
    names = [output["name"] for output in response["outputs"]] if transport == "http" else None
    if names is None:
        names = [output.name for output in response.outputs]
    print(json.dumps({"outputs": {name: result.as_numpy(name).ravel().tolist() for name in names}}))


if __name__ == "__main__":
    main()
