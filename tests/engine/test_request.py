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
