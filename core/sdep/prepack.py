"""Prepackaged model servers: which implementations are prepack, and the image each protocol uses.

The table has the shape of the `predictor_servers` key of the original's `seldon-config` ConfigMap:
`{IMPL: {"protocols": {protocol: {"image": …, "defaultImageVersion": …}}}}`. The default table mirrors the
Helm chart's defaults; operators replace it through the settings (env `PREDICTOR_SERVERS`, JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeGuard

BUILTIN_IMPLEMENTATIONS = frozenset(
    {"UNKNOWN_IMPLEMENTATION", "SIMPLE_MODEL", "SIMPLE_ROUTER", "RANDOM_ABTEST", "AVERAGE_COMBINER"}
)
SEMVER = "1.18.2"
MLSERVER = {"image": "seldonio/mlserver", "defaultImageVersion": "1.3.5"}

DEFAULT_PREDICTOR_SERVERS: dict[str, dict] = {
    "HUGGINGFACE_SERVER": {"protocols": {"v2": dict(MLSERVER, defaultImageVersion="1.3.5-huggingface")}},
    "MLFLOW_SERVER": {
        "protocols": {
            "seldon": {"image": "seldonio/mlflowserver", "defaultImageVersion": SEMVER},
            "v2": dict(MLSERVER, defaultImageVersion="1.3.5-mlflow"),
        }
    },
    "SKLEARN_SERVER": {
        "protocols": {
            "seldon": {"image": "seldonio/sklearnserver", "defaultImageVersion": SEMVER},
            "v2": dict(MLSERVER, defaultImageVersion="1.3.5-sklearn"),
        }
    },
    "TEMPO_SERVER": {"protocols": {"v2": dict(MLSERVER, defaultImageVersion="1.3.5-slim")}},
    "TENSORFLOW_SERVER": {
        "protocols": {
            "seldon": {"image": "seldonio/tfserving-proxy", "defaultImageVersion": SEMVER},
            "tensorflow": {"image": "tensorflow/serving", "defaultImageVersion": "2.1.0"},
        }
    },
    "TRITON_SERVER": {
        "protocols": {"v2": {"image": "nvcr.io/nvidia/tritonserver", "defaultImageVersion": "21.08-py3"}}
    },
    "XGBOOST_SERVER": {
        "protocols": {
            "seldon": {"image": "seldonio/xgboostserver", "defaultImageVersion": SEMVER},
            "v2": dict(MLSERVER, defaultImageVersion="1.3.5-xgboost"),
        }
    },
}

# RELATED_IMAGE_* environment overrides of one protocol's image (the original's operator-hub variables).
RELATED_IMAGE_ENV = {
    "RELATED_IMAGE_SKLEARNSERVER": ("SKLEARN_SERVER", "seldon"),
    "RELATED_IMAGE_SKLEARNSERVER_V2": ("SKLEARN_SERVER", "v2"),
    "RELATED_IMAGE_XGBOOSTSERVER": ("XGBOOST_SERVER", "seldon"),
    "RELATED_IMAGE_XGBOOSTSERVER_V2": ("XGBOOST_SERVER", "v2"),
    "RELATED_IMAGE_MLFLOWSERVER": ("MLFLOW_SERVER", "seldon"),
    "RELATED_IMAGE_MLFLOWSERVER_V2": ("MLFLOW_SERVER", "v2"),
    "RELATED_IMAGE_TFPROXY": ("TENSORFLOW_SERVER", "seldon"),
    "RELATED_IMAGE_TENSORFLOW": ("TENSORFLOW_SERVER", "tensorflow"),
}


def is_prepack(implementation: str | None) -> TypeGuard[str]:
    """True for any implementation that is neither unset nor one of the engine's built-in units (so it is a str)."""
    return bool(implementation) and implementation not in BUILTIN_IMPLEMENTATIONS


def protocol_config(servers: dict, implementation: str, protocol: str | None) -> dict | None:
    """The server entry for `protocol` ("" means seldon; v2 and kfserving stand in for each other)."""
    protocols = (servers.get(implementation) or {}).get("protocols") or {}
    protocol = protocol or "seldon"
    entry = protocols.get(protocol)
    if entry is None and protocol in ("v2", "kfserving"):
        entry = protocols.get("kfserving" if protocol == "v2" else "v2")
    return entry


def image_name(servers: dict, implementation: str, protocol: str | None) -> str:
    """`image:defaultImageVersion` for the server and protocol; just `image` when it has no version; "" if none."""
    entry = protocol_config(servers, implementation, protocol)
    if not entry or not entry.get("image"):
        return ""
    image, version = entry["image"], entry.get("defaultImageVersion")
    return f"{image}:{version}" if version else image


def with_related_images(servers: dict, environ: Mapping[str, str]) -> dict:
    """A copy of `servers` with every set RELATED_IMAGE_* variable replacing its protocol's image."""
    merged = {
        impl: {"protocols": {p: dict(c) for p, c in (cfg.get("protocols") or {}).items()}}
        for impl, cfg in servers.items()
    }
    for variable, (implementation, protocol) in RELATED_IMAGE_ENV.items():
        if environ.get(variable):
            protocols = merged.setdefault(implementation, {"protocols": {}})["protocols"]
            protocols[protocol] = {"image": environ[variable]}
    return merged
