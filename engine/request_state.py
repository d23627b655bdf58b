"""One request in flight: its puid, the headers to forward to units, and what the graph walk records.

Incoming headers (REST) or metadata (gRPC) are forwarded to every unit, so auth and tracing reach the models;
hop-by-hop and framing headers are not, since each hop has its own.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TYPE_CHECKING

from seldon_graph.errors import ENGINE_BAD_REQUEST, SeldonError
from seldon_graph.http11 import header_value_is_safe

if TYPE_CHECKING:
    from opentelemetry.trace import Span

PUID_HEADER = "Seldon-Puid"
PUID_KEY = PUID_HEADER.lower()  # as HTTP/1.1 header lookups and gRPC metadata spell it
MAX_PUID_LENGTH = 256
SKIP_LOGGING_HEADER = "seldon-skip-logging"
NOT_FORWARDED = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "accept-encoding",
        PUID_KEY,
        "user-agent",
        "grpc-timeout",
        "grpc-encoding",
        "grpc-accept-encoding",
        "inference-header-content-length",
    }
)
_TRUE = frozenset({"true", "on", "1"})
_RANDOM = random.Random()  # seeded from os.urandom
_UUID4_MASK = ~((0xF << 76) | (0x3 << 62))  # the version nibble and the variant bits
_UUID4_BITS = (0x4 << 76) | (0x2 << 62)  # version 4, RFC 4122 variant


def new_puid() -> str:
    """A request id for a request that came without one: a random UUID4, as the Seldon executor makes them. An id,
    not a secret, so from a PRNG seeded by the OS: no system call per request, a quarter of uuid.uuid4()'s cost."""
    h = f"{(_RANDOM.getrandbits(128) & _UUID4_MASK) | _UUID4_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def checked_puid(puid: object) -> str | None:
    """A client's puid (meta.puid or the Seldon-Puid header), which goes back in a response header and on to every
    unit: printable ASCII of at most MAX_PUID_LENGTH characters, else a 400 (a CR or LF would split a response)."""
    if puid is None or puid == "":
        return None
    if not isinstance(puid, str):
        raise SeldonError(f"Invalid puid {puid!r}: a puid is a string", 400, ENGINE_BAD_REQUEST)
    if len(puid) > MAX_PUID_LENGTH or not (puid.isascii() and puid.isprintable()):
        raise SeldonError(
            f"Invalid puid {puid[:64]!r}: a puid is printable ASCII of at most {MAX_PUID_LENGTH} characters",
            400,
            ENGINE_BAD_REQUEST,
        )
    return puid


class RequestState:
    """Per-request state shared by every step of one walk."""

    __slots__ = (
        "puid",
        "forwarded",
        "routing",
        "request_path",
        "metrics",
        "skip_logging",
        "trace",
        "timings",
        "_headers",
        "_metadata",
    )

    def __init__(self, puid: object, forwarded: Iterable[tuple[str, str | bytes]] = ()):
        """`puid` as the client sent it (checked here); `forwarded` the request's headers or gRPC metadata, whose
        `-bin` values are bytes (not forwarded: REST has no binary headers, and units get text metadata)."""
        self.puid = checked_puid(puid) or new_puid()
        self.forwarded = [(k, v) for k, v in forwarded if k.lower() not in NOT_FORWARDED and not k.startswith(":")]
        self.skip_logging = any(
            k.lower() == SKIP_LOGGING_HEADER and v.strip().lower() in _TRUE for k, v in self.forwarded
        )
        self.routing: dict[str, int] = {}
        self.request_path: dict[str, str] = {}
        self.metrics: dict[str, list] = {}
        self.trace: Span | None = None  # the request's span, when tracing is on and the request is sampled
        self.timings: dict[str, float] | None = None  # seconds per node, when the answer carries Server-Timing
        self._headers: bytes | None = None
        self._metadata: tuple[tuple[str, str], ...] | None = None

    def rest_headers(self) -> bytes:
        """The header lines of every REST unit call of this request (forwarded headers, puid, JSON type)."""
        if self._headers is None:
            lines = [
                f"{k}: {v}\r\n"
                for k, v in self.forwarded
                if not k.lower().endswith("-bin")
                and isinstance(v, str)
                and header_value_is_safe(v)
                and header_value_is_safe(k)
            ]
            lines.append(f"{PUID_HEADER}: {self.puid}\r\nContent-Type: application/json\r\n")
            self._headers = "".join(lines).encode("latin-1", errors="replace")
        return self._headers

    def grpc_metadata(self) -> tuple[tuple[str, str], ...]:
        if self._metadata is None:
            pairs = [
                (k.lower(), v) for k, v in self.forwarded if isinstance(v, str) and v.isascii() and v.isprintable()
            ]
            pairs.append((PUID_KEY, self.puid))
            self._metadata = tuple(pairs)
        return self._metadata
