"""The HTTP ⇄ gRPC status map is held by name in core; every name is a real grpc.StatusCode."""

import grpc

from seldon_graph import status_codes


def test_every_name_resolves_and_the_maps_agree():
    for status, name in status_codes.HTTP_TO_GRPC.items():
        assert status_codes.GRPC_TO_HTTP[grpc.StatusCode[name].name] == status
    assert {grpc.StatusCode[name] for name in status_codes.GRPC_TO_HTTP} >= {grpc.StatusCode.UNIMPLEMENTED}
    assert status_codes.GRPC_TO_HTTP["RESOURCE_EXHAUSTED"] == 429
