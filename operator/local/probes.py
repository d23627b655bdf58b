"""Readiness checks of local units, each bounded by a short timeout so the supervisor loop never stalls."""

from __future__ import annotations

import http.client
import socket

from seldon_graph.operator.local.topology import LOCAL_IP
from seldon_graph.operator.local.unit_spec import Probe

TIMEOUT = 0.5


def tcp_open(port: int, host: str = LOCAL_IP) -> bool:
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT):
            return True
    except OSError:
        return False


def http_ok(port: int, path: str, host: str = LOCAL_IP) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def ready(probe: Probe) -> bool:
    if probe.kind == "http":
        return http_ok(probe.port, probe.path)
    if probe.kind == "tcp":
        return tcp_open(probe.port)
    return True
