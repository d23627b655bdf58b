"""The ingress port: a valid TCP port that nobody else listens on, checked before anything starts.

Envoy listens without SO_REUSEPORT, so a second ingress on a taken port would fail; checking first turns that
into one clear message at once (naming the process that holds the port, when this user may see it) instead of a
wait for a deployment that can never be reached.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import socket
from pathlib import Path
from typing import NamedTuple

from seldon_graph.operator.local.topology import LOCAL_IP

LOWEST, HIGHEST = 1, 65535
LISTEN_STATE = "0A"  # TCP_LISTEN in /proc/net/tcp


class PortHolder(NamedTuple):
    """A process with a listening socket on the port."""

    pid: int
    command: str


def port_number(text: str) -> int:
    """argparse `type`: a TCP port number 1–65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not LOWEST <= port <= HIGHEST:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (allowed: {LOWEST}-{HIGHEST})")
    return port


def unavailable(port: int, host: str = LOCAL_IP, own: frozenset[int] = frozenset()) -> str:
    """Why the ingress cannot listen on `host:port` ("" when it can), naming who holds the port when known.

    A port held only by processes in `own` (the Envoy a killed supervisor of this state directory left behind,
    which its successor stops) counts as free."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Envoy does: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
            probe.listen()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        else:
            return ""
    holders = listening_processes(port)
    if holders and all(h.pid in own for h in holders):
        return ""
    who = ", ".join(f"pid {h.pid} ({h.command})" for h in holders) or "another process (not visible to this user)"
    return f"port {port} on {host} is already in use by {who}"


def listening_processes(port: int) -> list[PortHolder]:
    """The processes (of those this user may inspect) with a socket listening on TCP `port`."""
    inodes = _listening_inodes(port)
    found = []
    for proc in Path("/proc").iterdir() if inodes else ():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                found.append(PortHolder(int(proc.name), _command(proc)))
    return found


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == LISTEN_STATE and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    return inodes


def _command(proc: Path) -> str:
    try:
        argv = (proc / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except OSError:
        return "?"
    return " ".join(a.decode(errors="replace") for a in argv)[:200]
