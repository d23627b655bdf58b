"""Per-request state: generated puids and the headers forwarded to units."""

import uuid

from seldon_graph.engine.request_state import RequestState, new_puid


def test_generated_puids_are_distinct_random_uuid4s():
    puids = {new_puid() for _ in range(2000)}
    assert len(puids) == 2000
    for puid in puids:
        parsed = uuid.UUID(puid)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == puid


def test_hop_by_hop_headers_are_not_forwarded_and_the_puid_is_added():
    request = RequestState("p-1", [("host", "x"), ("content-length", "3"), ("x-custom", "a"), ("authorization", "t")])
    assert request.rest_headers() == (
        b"x-custom: a\r\nauthorization: t\r\nSeldon-Puid: p-1\r\nContent-Type: application/json\r\n"
    )
    assert request.grpc_metadata() == (("x-custom", "a"), ("authorization", "t"), ("seldon-puid", "p-1"))


def test_binary_grpc_metadata_is_not_forwarded():
    request = RequestState("p-1", [("x-context-bin", b"ascii"), ("x-raw-bin", b"\xff"), ("x-custom", "a")])
    assert request.grpc_metadata() == (("x-custom", "a"), ("seldon-puid", "p-1"))
    assert request.rest_headers() == b"x-custom: a\r\nSeldon-Puid: p-1\r\nContent-Type: application/json\r\n"
