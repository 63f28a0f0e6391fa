"""One error shape on every route: JSON `{"detail": ...}` with the right status and headers."""

from __future__ import annotations

import http.client
import re
from http import HTTPStatus

import pytest

from tests.support.accounts import assert_tokens, bearer, create_users, encode, login
from tests.support.faults import refused_port
from tests.support.faulty_urls import LEAK
from tests.support.servers import Reply

THREE_MB = b"x" * (3 * 1024 * 1024)


def assert_error(reply: Reply, status: int) -> dict:
    """A JSON error envelope with `status`: a `detail` string, never a page or a traceback."""
    assert reply.status == status, reply.body[:300]
    assert reply.header("Content-Type") == "application/json", reply.headers
    body = reply.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    assert b"Traceback" not in reply.body and b"<html" not in reply.body.lower()
    return body


@pytest.fixture(scope="module")
def server(module_serve):
    return module_serve()


@pytest.mark.parametrize("path", ["/api/nope", "/api/auth/nope/", "/nope", "/api/ops"])
@pytest.mark.parametrize("accept", ["application/json", "text/html,application/xhtml+xml"])
def test_unknown_paths_answer_json_404(server, path: str, accept: str) -> None:
    """An unknown path is a JSON 404, even for a browser asking for HTML."""
    assert_error(server.get(path, headers={"Accept": accept}), HTTPStatus.NOT_FOUND)


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("POST", "/", "GET"),
    ("DELETE", "/api/", "GET"),
    ("POST", "/health", "GET"),
    ("PUT", "/api/ready/", "GET"),
    ("POST", "/api/schema", "GET"),
])
def test_wrong_method_is_405_with_allow(server, method: str, path: str, allowed: str) -> None:
    """A method the route does not take: 405, and Allow names the ones it does."""
    reply = server.request(method, path, body=b"{}", headers={"Content-Type": "application/json"})
    body = assert_error(reply, HTTPStatus.METHOD_NOT_ALLOWED)
    assert method in body["detail"]
    allow = [m.strip() for m in reply.header("Allow").split(",")]
    assert allowed in allow and method not in allow


@pytest.mark.parametrize("path", ["/", "/api/schema", "/health", "/api/nope"])
def test_oversized_body_is_413_json(server, path: str) -> None:
    """A 3 MB body is refused with 413 JSON on any route, before the route reads it."""
    reply = server.post(path, body=THREE_MB, headers={"Content-Type": "application/x-www-form-urlencoded"})
    body = assert_error(reply, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    assert "2621440" in body["detail"]
    # The connection is still usable afterwards: the next request gets its own answer.
    assert server.get("/ready").status == HTTPStatus.OK


def test_oversized_body_leaves_the_connection_usable(server) -> None:
    """The 413 is read by the client and the same kept-alive connection serves the next
    request: the body was drained, so gunicorn had no reason to cut the connection
    (when it does, a client still sending gets a reset instead of the 413)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        for _ in range(3):
            conn.request("POST", "/login", body=THREE_MB,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            refused = conn.getresponse()
            assert refused.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE and b"limit" in refused.read()
            conn.request("GET", "/ready")
            again = conn.getresponse()
            assert again.status == HTTPStatus.OK and again.read()
    finally:
        conn.close()


def test_body_at_the_limit_is_not_413(server) -> None:
    """Exactly the limit is allowed (the route then answers as it would anyway)."""
    reply = server.post("/", body=b"x" * 2_621_440, headers={"Content-Type": "application/octet-stream"})
    assert_error(reply, HTTPStatus.METHOD_NOT_ALLOWED)


def test_unknown_host_is_400_json(server) -> None:
    """Outside the probes, a Host not in ALLOWED_HOSTS is a JSON 400 that does not echo the host."""
    body = assert_error(server.get("/", headers={"Host": "evil.example"}), HTTPStatus.BAD_REQUEST)
    assert "evil" not in body["detail"]
    assert server.get("/health", headers={"Host": "evil.example"}).status == HTTPStatus.OK


@pytest.mark.parametrize("debug", ["false", "true"])
@pytest.mark.parametrize("path", ["/api/test/fail-drf", "/api/test/fail-django"])
def test_server_error_is_json_without_the_exception(module_serve, path: str, debug: str) -> None:
    """A view that raises: 500 JSON with nothing of the exception, DEBUG or not."""
    server = module_serve(DJANGO_SETTINGS_MODULE="tests.support.faulty_settings", DEBUG=debug)
    reply = server.get(path, headers={"X-Request-ID": "client-chosen-id-42"})
    body = assert_error(reply, HTTPStatus.INTERNAL_SERVER_ERROR)
    assert LEAK.encode() not in reply.body and b"RuntimeError" not in reply.body
    assert body == {"detail": "Internal server error.", "request_id": "client-chosen-id-42"}
    assert reply.header("X-Request-ID") == "client-chosen-id-42"
    made = server.get(path)
    assert made.json()["request_id"] == made.header("X-Request-ID") and len(made.header("X-Request-ID")) >= 16
    # The cause is in the log, on the line that carries the same id.
    logged = [line for line in server.log().splitlines() if "client-chosen-id-42" in line]
    assert any(LEAK in line for line in logged), server.log()[-3000:]


def test_database_outage_is_503_with_retry_after(module_serve) -> None:
    """A request that needs the database while it refuses connections: 503 JSON, Retry-After."""
    server = module_serve(DB_HOST="127.0.0.1", DB_PORT=str(refused_port()), DB_SSL_DISABLED="true",
                          DB_CONNECT_TIMEOUT="1")
    page = server.get("/admin/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
    cookie = re.search(r"csrftoken=([^;]+)", page.header("Set-Cookie")).group(1)
    reply = server.post("/admin/login/", body=f"csrfmiddlewaretoken={token}&username=u&password=p",
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Cookie": f"csrftoken={cookie}"})
    body = assert_error(reply, HTTPStatus.SERVICE_UNAVAILABLE)
    assert int(reply.header("Retry-After")) > 0
    assert "127.0.0.1" not in body["detail"] and "refused" not in body["detail"].lower()


# --- the sign-in and token routes ----------------------------------------------------------

USER, USER_PASSWORD = "plain-user", "plain-user-password-1"
STAFF, STAFF_PASSWORD = "staff-user", "staff-user-password-1"


@pytest.fixture(scope="module")
def accounts_server(module_serve):
    server = module_serve(BCRYPT_ROUNDS="4", LOGIN_FAILURES_PER_USER="3")
    create_users({"SQLITE_PATH": server.env["SQLITE_PATH"]},
                 {"username": USER, "password": USER_PASSWORD},
                 {"username": STAFF, "password": STAFF_PASSWORD, "staff": True})
    return server


@pytest.mark.parametrize("kind", ["json", "form", "multipart"])
def test_missing_field_is_400_with_field_errors(accounts_server, kind: str) -> None:
    body, headers = encode({"username": USER}, kind)
    reply = accounts_server.post("/login", body=body, headers=headers)
    assert reply.status == HTTPStatus.BAD_REQUEST and reply.header("Content-Type") == "application/json"
    assert reply.json() == {"password": ["This field is required."]}


def test_malformed_json_is_400_detail(accounts_server) -> None:
    reply = accounts_server.post("/api/login", body=b'{"username": ', headers={"Content-Type": "application/json"})
    assert assert_error(reply, HTTPStatus.BAD_REQUEST)["detail"].startswith("JSON parse error")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"},
                                     {"Authorization": "Bearer"}])
def test_missing_or_bad_credentials_are_401_with_www_authenticate(accounts_server, headers: dict) -> None:
    reply = accounts_server.get("/api/auth/me", headers=headers)
    assert_error(reply, HTTPStatus.UNAUTHORIZED)
    assert reply.header("WWW-Authenticate").startswith("Bearer")


def test_non_staff_is_403_on_diagnostics(accounts_server) -> None:
    token = assert_tokens(login(accounts_server, USER, USER_PASSWORD))["access_token"]
    reply = accounts_server.get("/api/ops/diagnostics", headers=bearer(token))
    assert_error(reply, HTTPStatus.FORBIDDEN)
    staff = assert_tokens(login(accounts_server, STAFF, STAFF_PASSWORD))["access_token"]
    assert accounts_server.get("/api/ops/diagnostics", headers=bearer(staff)).status == HTTPStatus.OK


def test_unsupported_content_type_is_415(accounts_server) -> None:
    reply = accounts_server.post("/login", body=f"username={USER}", headers={"Content-Type": "text/plain"})
    assert "text/plain" in assert_error(reply, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)["detail"]


def test_wrong_method_on_login_is_405_with_allow(accounts_server) -> None:
    reply = accounts_server.get("/login")
    assert_error(reply, HTTPStatus.METHOD_NOT_ALLOWED)
    assert "POST" in reply.header("Allow")


def test_oversized_login_is_413(accounts_server) -> None:
    reply = accounts_server.post("/login", body=THREE_MB, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(reply, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def test_too_many_failures_is_429_with_retry_after(accounts_server) -> None:
    target = "locked-out-user"
    replies = [login(accounts_server, target, f"wrong-{n}") for n in range(5)]
    assert [r.status for r in replies[:3]] == [HTTPStatus.BAD_REQUEST] * 3
    throttled = replies[-1]
    assert_error(throttled, HTTPStatus.TOO_MANY_REQUESTS)
    assert int(throttled.header("Retry-After")) > 0


def test_login_while_the_database_is_down_is_503(module_serve) -> None:
    server = module_serve(DB_HOST="127.0.0.1", DB_PORT=str(refused_port()), DB_SSL_DISABLED="true",
                          DB_CONNECT_TIMEOUT="1")
    reply = login(server, USER, USER_PASSWORD)
    assert_error(reply, HTTPStatus.SERVICE_UNAVAILABLE)
    assert int(reply.header("Retry-After")) > 0


def chunked_post(server, path: str, chunks: list[bytes], content_type: str = "application/json",
                 method: str = "POST") -> Reply:
    """A body sent as `Transfer-Encoding: chunked`, without Content-Length (as curl -T - or a streaming client)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=iter(chunks), encode_chunked=True,
                     headers={"Host": f"127.0.0.1:{server.port}", "Content-Type": content_type,
                              "Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read(), 0.0)
    finally:
        conn.close()


@pytest.mark.parametrize(("path", "chunks"), [
    ("/login", [b'{"username": "admin", ', b'"password": "x"}']),
    ("/api/auth/refresh", [b'{"refresh_token": "abc"}']),
    ("/login", [b"x" * (64 * 1024)] * 48),  # 3 MB
    ("/api/nope", [b"{}"]),
])
def test_a_chunked_body_is_411_not_ignored(server, path: str, chunks: list[bytes]) -> None:
    """Django reads Content-Length bytes: a chunked body would read as empty. Say so instead."""
    body = assert_error(chunked_post(server, path, chunks), HTTPStatus.LENGTH_REQUIRED)
    assert "Content-Length" in body["detail"]


def test_a_probe_with_a_chunked_body_still_answers(server) -> None:
    assert chunked_post(server, "/ready", [b"{}"], method="GET").status == HTTPStatus.OK
