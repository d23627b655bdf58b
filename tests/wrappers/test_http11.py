"""The wrapper on the shared HTTP/1.1 server (tests/core/test_http11.py covers the protocol): its own failures
are Seldon status bodies with the microservice's reasons."""

import json
import socket

import pytest

pytestmark = pytest.mark.e2e


def test_malformed_http_gets_a_microservice_status_body(model):
    with socket.create_connection(("127.0.0.1", model.http_port), timeout=5) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: abc\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400")
    status = json.loads(answer.split(b"\r\n\r\n", 1)[1])["status"]
    assert (
        status["reason"] == "MICROSERVICE_BAD_DATA"
        and status["info"] == "Bad request: invalid character in Content-Length"
    )
