"""Envoy bootstrap → file-based xDS: listeners and clusters live in files Envoy watches, so an updated
deployment changes routes in place, without restarting Envoy or dropping the other deployments' traffic.

Pure functions: the same static bootstrap gives the same files.
"""

from __future__ import annotations

from pathlib import Path

from seldon_graph import envoy

LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener"
CLUSTER_TYPE = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
NODE = {"id": "seldon-graph-local", "cluster": "seldon-graph-local"}


def discovery_response(resources: list[dict], type_url: str, version: str) -> dict:
    return {"version_info": version, "resources": [{"@type": type_url, **r} for r in resources]}


def split_static(bootstrap: dict, version: str) -> tuple[dict, dict]:
    """(LDS file, CDS file) holding the static listeners and clusters of `bootstrap`."""
    static = bootstrap.get("static_resources") or {}
    return (
        discovery_response(static.get("listeners") or [], LISTENER_TYPE, version),
        discovery_response(static.get("clusters") or [], CLUSTER_TYPE, version),
    )


def dynamic_bootstrap(lds_path: Path, cds_path: Path, admin_port: int) -> dict:
    """A bootstrap that only names the admin port and the two watched xDS files."""

    def source(path: Path) -> dict:
        return {"resource_api_version": "V3", "path_config_source": {"path": str(path)}}

    return {
        "node": NODE,
        "admin": envoy.admin(admin_port),
        "dynamic_resources": {"lds_config": source(lds_path), "cds_config": source(cds_path)},
    }
