"""What gunicorn itself answers, before Django: JSON errors, and stalled clients let go."""

from __future__ import annotations

import json
import socket
import time
from http import HTTPStatus

import pytest

from tests.support.servers import LiveServer


def raw(server: LiveServer, data: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send bytes no HTTP library would send; read the whole answer (gunicorn closes after an error)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


@pytest.fixture(scope="module")
def server(module_serve):
    return module_serve()


def host(server: LiveServer) -> bytes:
    return f"Host: 127.0.0.1:{server.port}\r\n".encode()


MALFORMED = [
    ("negative Content-Length", b"POST /login HTTP/1.1\r\n{host}Content-Length: -1\r\n\r\n", 400),
    ("NUL in a header", b"GET / HTTP/1.1\r\n{host}X-Probe: a\x00b\r\n\r\n", 400),
    ("control character in a header", b"GET / HTTP/1.1\r\n{host}X-Probe: a\x01b\r\n\r\n", 400),
    ("9 KB header", b"GET / HTTP/1.1\r\n{host}X-Probe: " + b"a" * 9000 + b"\r\n\r\n", 431),
    ("200 headers", b"GET / HTTP/1.1\r\n{host}" + b"".join(b"X-%d: a\r\n" % i for i in range(200)) + b"\r\n", 431),
    ("8 KB query", b"GET /?q=" + b"a" * 8192 + b" HTTP/1.1\r\n{host}\r\n", 414),
    ("two Host headers", b"GET / HTTP/1.1\r\n{host}{host}\r\n", 400),
    ("non-UTF-8 request line", b"GET /\xff\xfe-echo-me HTTP/1.1\r\n{host}\r\n", 400),
    ("not a request line", b"ECHO-ME<script>\r\n{host}\r\n", 400),
]


@pytest.mark.parametrize(("data", "status"), [pytest.param(d, s, id=name) for name, d, s in MALFORMED])
def test_gunicorn_refusals_are_json_and_echo_nothing(server, data: bytes, status: int) -> None:
    got, headers, body = raw(server, data.replace(b"{host}", host(server)))
    assert got == status, body[:300]
    assert headers["content-type"] == "application/json"
    assert set(json.loads(body)) == {"detail"}
    for echo in (b"echo-me", b"ECHO-ME", b"<script>", b"aaaaaaaa", b"X-Probe", b"X-1"):
        assert echo not in body


def test_refusals_leave_no_request_text_in_the_log(server) -> None:
    raw(server, b"ECHO-ME<script>\r\n" + host(server) + b"\r\n")
    raw(server, b"GET / HTTP/1.1\r\n" + host(server) + b"X-Probe: secret-\x01value\r\n\r\n")
    text = server.log()
    assert "<script>" not in text and "secret-" not in text and "Traceback" not in text


def test_half_open_connections_let_go_of_their_threads(module_serve) -> None:
    """Three clients each send half a request to a server with two threads: /ready still
    answers once GUNICORN_CLIENT_TIMEOUT (1 s here) has freed a thread, instead of never."""
    small = module_serve(WEB_CONCURRENCY="1", GUNICORN_THREADS="2", GUNICORN_CLIENT_TIMEOUT="1")
    stalled = []
    try:
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", small.port), timeout=5)
            sock.sendall(b"GET / HTTP/1.1\r\n" + host(small))  # never finished
            stalled.append(sock)
        time.sleep(0.3)  # let the worker hand them to its threads
        reply = small.get("/ready", timeout=20)
        assert reply.status == HTTPStatus.OK
        for sock in stalled:  # and each stalled client was hung up on
            sock.settimeout(10)
            assert sock.recv(100) == b""
    finally:
        for sock in stalled:
            sock.close()
