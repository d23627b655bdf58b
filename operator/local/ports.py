"""Stable local ports for pod ports: pods share one host network locally, so every (pod, containerPort) gets its own.

A port stays assigned while its pod exists, so re-applying an unchanged deployment renders the same unit
commands and nothing restarts.
"""

from __future__ import annotations

import socket
from pathlib import Path

from seldon_graph.operator.local.home import read_json, write_json


def free_port() -> int:
    """A TCP port nobody listens on right now on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PortBook:
    """Assignments `<namespace>/<pod>/<containerPort>` → local port, persisted in a JSON file."""

    def __init__(self, path: Path, reserved: frozenset[int] = frozenset()):
        self.path = path
        self.reserved = reserved  # never handed out: the ingress port, free until Envoy starts after the units
        self.assigned: dict[str, int] = {k: int(v) for k, v in (read_json(path) or {}).items()}

    def port(self, namespace: str, pod: str, container_port: int) -> int:
        key = f"{namespace}/{pod}/{container_port}"
        if key not in self.assigned:
            taken = set(self.assigned.values()) | self.reserved
            port = free_port()
            while port in taken:
                port = free_port()
            self.assigned[key] = port
            write_json(self.path, self.assigned)
        return self.assigned[key]

    def release(self, namespace: str, keep_pods: set[str]) -> None:
        """Forget the ports of `namespace`'s pods (pod instances) not in `keep_pods`."""
        prefix = f"{namespace}/"
        stale = [k for k in self.assigned if k.startswith(prefix) and k.split("/")[1] not in keep_pods]
        for key in stale:
            del self.assigned[key]
        if stale:
            write_json(self.path, self.assigned)
