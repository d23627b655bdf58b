"""`/seldon.json`: an OpenAPI 3 description of the unit's REST paths, rendered from the wrapper's own path table."""

from __future__ import annotations

# what each microservice method reads and answers (component schemas below)
BODIES = {
    "predict": ("SeldonMessage", "SeldonMessage"),
    "transform_input": ("SeldonMessage", "SeldonMessage"),
    "transform_output": ("SeldonMessage", "SeldonMessage"),
    "route": ("SeldonMessage", "SeldonMessage"),
    "aggregate": ("SeldonMessageList", "SeldonMessage"),
    "send_feedback": ("Feedback", "SeldonMessage"),
    "health_status": (None, "SeldonMessage"),
    "metadata": (None, "SeldonModelMetadata"),
}
SCHEMAS = {
    "SeldonMessage": "A Seldon v1 message: one of data (names + tensor, ndarray or tftensor), binData, strData "
    "or jsonData, with meta (puid, tags, routing, requestPath, metrics).",
    "SeldonMessageList": "The messages a combiner aggregates, as {seldonMessages: [...]} or a bare array.",
    "Feedback": "A feedback message: request, response, reward and truth.",
    "SeldonModelMetadata": "The model's metadata: name, versions, platform, inputs, outputs, custom.",
    "Status": "A failure: {status: {code, info, reason, status}}.",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str) -> dict:
    return {"application/json": {"schema": _ref(name)}}


def _operation(method: str, http_method: str, path: str) -> dict:
    request, response = BODIES.get(method, (None, None))
    operation: dict = {"operationId": f"{method}_{http_method}_{path.strip('/').replace('/', '_')}"}
    if request is not None and http_method == "post":
        operation["requestBody"] = {"content": _json(request)}
    if request is not None and http_method == "get":
        operation["parameters"] = [
            {"name": "json", "in": "query", "required": True, "schema": {"type": "string"}, "description": request}
        ]
    ok: dict[str, object] = {"description": "Success"}
    if response is not None:
        ok["content"] = _json(response)
    else:
        ok["content"] = {"text/plain": {"schema": {"type": "string"}}}
    operation["responses"] = {"200": ok, "default": {"description": "Failure", "content": _json("Status")}}
    return operation


def openapi_document(routes: dict[str, tuple[frozenset, str]]) -> dict:
    """The OpenAPI document of `routes` (path → allowed HTTP methods and the method that answers)."""
    paths = {
        path: {verb.lower(): _operation(method, verb.lower(), path) for verb in sorted(verbs)}
        for path, (verbs, method) in routes.items()
    }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Seldon microservice API (seldon-graph)", "version": "1.0"},
        "paths": paths,
        "components": {"schemas": {name: {"type": "object", "description": text} for name, text in SCHEMAS.items()}},
    }
