#!/usr/bin/env bash
# The main job on a fresh machine: install seldon-graph into .venv, serve examples/graph.yaml locally
# (transformer -> router -> two models, an engine and an Envoy ingress), send predictions through the
# ingress (Python requests, so no curl is needed), show the status, then stop everything.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q -e . --config-settings editable_mode=strict
export SELDON_GRAPH_HOME="${SELDON_GRAPH_HOME:-$(mktemp -d)}"
trap '.venv/bin/seldon-graph down >/dev/null' EXIT
.venv/bin/seldon-graph up -f examples/graph.yaml --detach
URL=http://127.0.0.1:8003/seldon/seldon/graph/api/v1.0/predictions
.venv/bin/python - "$URL" <<'PY'
import sys
import requests

for body in ({"data": {"ndarray": [[1, 2]]}}, {"data": {"ndarray": [[20, 1]]}}):
    response = requests.post(sys.argv[1], json=body, timeout=30)
    print("POST", sys.argv[1], body, "->", response.status_code, response.text)
    response.raise_for_status()
PY
.venv/bin/seldon-graph status
