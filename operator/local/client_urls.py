"""Where a client reaches a deployment through the local ingress, in the deployment's own protocol, with a request
to try: what `up` prints and `status --json` records under `urls`.

Pure: the same deployment and port give the same URLs.
"""

from __future__ import annotations

import json

from seldon_graph.sdep import SeldonDeployment

V2_PROTOCOLS = ("v2", "kfserving")
# a request each protocol's REST prediction path accepts, to show how a call looks (not the model's real shape)
EXAMPLE_BODIES = {
    "seldon": {"data": {"ndarray": [[1.0, 2.0]]}},
    "v2": {"inputs": [{"name": "input-0", "shape": [1, 2], "datatype": "FP32", "data": [1.0, 2.0]}]},
    "tensorflow": {"instances": [[1.0, 2.0]]},
}


def served_model(sdep: SeldonDeployment | None) -> str:
    """The model name a V2/TF path names: the root node of the first predictor clients reach."""
    predictors = [p for p in ((sdep.spec.predictors if sdep and sdep.spec else None) or []) if not p.shadow]
    graph = predictors[0].graph if predictors else None
    return (graph.name if graph else None) or "model"


def prediction_path(protocol: str, model: str) -> str:
    """The REST prediction path under /seldon/<namespace>/<name>, as each protocol's clients call it."""
    if protocol in V2_PROTOCOLS:
        return f"/v2/models/{model}/infer"
    if protocol == "tensorflow":
        return f"/v1/models/{model}:predict"
    return "/api/v1.0/predictions"


def example_body(protocol: str) -> str:
    kind = "v2" if protocol in V2_PROTOCOLS else protocol if protocol in EXAMPLE_BODIES else "seldon"
    return json.dumps(EXAMPLE_BODIES[kind], separators=(",", ":"))


def client_urls(
    *,
    sdep: SeldonDeployment | None,
    namespace: str,
    external_name: str,
    port: int,
    header: str = "",
    oauth: bool = False,
) -> dict:
    """REST and gRPC addresses of one deployment behind the ingress on `port`, the header it needs (if any), the
    token endpoint (with OAuth) and an example REST body in its protocol."""
    protocol = (sdep.spec.protocol if sdep and sdep.spec else None) or "seldon"
    base = f"http://127.0.0.1:{port}"
    return {
        "rest": f"{base}/seldon/{namespace}/{external_name}{prediction_path(protocol, served_model(sdep))}",
        "grpc": f"127.0.0.1:{port}",
        "grpc_metadata": {"seldon": external_name, "namespace": namespace},
        "example": example_body(protocol),
        **({"header": header} if header else {}),
        **({"token": f"{base}/oauth/token"} if oauth else {}),
    }
