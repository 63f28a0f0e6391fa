"""Logs of a real gunicorn (two workers): JSON lines only, request ids, no secret anywhere."""

from __future__ import annotations

import json
import re

import bcrypt
import pytest

from tests.support.accounts import ADMIN, fallback_env, login
from tests.support.faults import refused_port
from tests.support.servers import SENTINEL_SECRET_KEY, LiveServer

SENTINEL_PASSWORD = "sentinel-admin-password-3b8f"
SENTINEL_DB_PASSWORD = "sentinel-db-password-71e5a2"
SENTINEL_METRICS_TOKEN = "sentinel-metrics-token-c4d9e0"
SENTINEL_HASH = bcrypt.hashpw(SENTINEL_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
FAKE_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZW50aW5lbCJ9.c2VudGluZWwtc2lnbmF0dXJlLXh5eg"
SENTINEL_COOKIE = "sentinel-session-cookie-8a1f"
SENTINELS = (SENTINEL_SECRET_KEY, SENTINEL_PASSWORD, SENTINEL_DB_PASSWORD, SENTINEL_METRICS_TOKEN,
             SENTINEL_HASH, FAKE_JWT, SENTINEL_COOKIE)

SECRET_ENV = {"DB_PASSWORD": SENTINEL_DB_PASSWORD, "ADMIN_PASSWORD_HASH": SENTINEL_HASH,
              "ADMIN_USERNAME": "admin", "ALLOW_FALLBACK_LOGIN": "true", "METRICS_TOKEN": SENTINEL_METRICS_TOKEN,
              "BCRYPT_ROUNDS": "4"}
REQUEST_LOGGERS = {"gunicorn.access", "django.request", "infinityai.request", "health.checks"}


def log_lines(server: LiveServer) -> list[dict]:
    lines = [line for line in server.log().splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line is not JSON: {line!r}")
    return records


def drive(server: LiveServer) -> tuple[list[str], list[str]]:
    """Right, wrong and over-long logins, tokens good and bad, cookies.
    Returns the request ids answered and the tokens the server issued."""
    ids, issued = [], []
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for body in (f"username=admin&password={SENTINEL_PASSWORD}", "username=admin&password=wrong-one",
                 "username=admin&password=" + "x" * 5000, f"username={SENTINEL_PASSWORD}&password=x"):
        reply = server.post("/login", body=body, headers=form)
        ids.append(reply.header("X-Request-ID"))
        if reply.status == 200:
            issued += [reply.json()["access_token"], reply.json()["refresh_token"]]
    reply = server.post("/api/login", body=json.dumps({"username": "admin", "password": SENTINEL_PASSWORD}),
                        headers={"Content-Type": "application/json"})
    ids.append(reply.header("X-Request-ID"))
    assert reply.status == 200, reply.body  # the fallback admin signs in whatever the database does
    issued += [reply.json()["access_token"], reply.json()["refresh_token"]]
    for token in (issued[0], FAKE_JWT):
        ids.append(server.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).header("X-Request-ID"))
    ids.append(server.get("/api/ops/diagnostics", headers={"Authorization": f"Bearer {issued[0]}"})
               .header("X-Request-ID"))
    ids.append(server.post("/api/auth/refresh", body=json.dumps({"refresh_token": issued[1]}),
                           headers={"Content-Type": "application/json"}).header("X-Request-ID"))
    ids.append(server.get("/metrics", headers={"Authorization": "Bearer wrong-token-123"}).header("X-Request-ID"))
    ids.append(server.get("/metrics", headers={"Authorization": f"Bearer {SENTINEL_METRICS_TOKEN}"})
               .header("X-Request-ID"))
    ids.append(server.get("/admin/", headers={"Cookie": f"sessionid={SENTINEL_COOKIE}"}).header("X-Request-ID"))
    ids.append(server.get(f"/health?token={FAKE_JWT}").header("X-Request-ID"))
    return ids, issued


def assert_clean(server: LiveServer, ids: list[str], issued: list[str]) -> list[dict]:
    text = server.log()
    assert issued
    for sentinel in (*SENTINELS, *issued):
        assert sentinel not in text, f"a secret reached the log: {sentinel[:12]}..."
    records = log_lines(server)
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record)
        if record["logger"] in REQUEST_LOGGERS:
            assert record["request_id"], record
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert {r["request_id"] for r in access} >= set(ids)
    for record in access:
        assert record["method"] and record["path"].startswith("/") and isinstance(record["status"], int)
        assert isinstance(record["duration_ms"], float) and record["client"] == "127.0.0.1"
    return records


def test_logs_are_json_with_request_ids_and_no_secrets(serve, sqlite_env) -> None:
    server = serve(workers=2, **sqlite_env, **SECRET_ENV)
    ids, issued = drive(server)
    assert all(ids) and len(set(ids)) == len(ids)
    server.stop()  # gunicorn's shutdown lines too
    records = assert_clean(server, ids, issued)
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records)


def test_database_fault_logs_stay_clean(serve) -> None:
    """A refused database: the warnings and 503s are logged as JSON, the password nowhere."""
    server = serve(workers=2, DB_HOST="127.0.0.1", DB_PORT=str(refused_port()), DB_USER="app",
                   DB_SSL_DISABLED="true", **SECRET_ENV)
    ids, issued = drive(server)
    ids.append(server.get("/health").header("X-Request-ID"))
    server.stop()
    records = assert_clean(server, ids, issued)
    assert any(r["level"] == "WARNING" and "database" in r["message"] for r in records)


def test_request_id_taken_when_sane_and_made_otherwise(serve, sqlite_env) -> None:
    server = serve(**sqlite_env)
    assert server.get("/ready", headers={"X-Request-ID": "req-42.abc"}).header("X-Request-ID") == "req-42.abc"
    for insane in ("has space", "a" * 200, "x\u00e9", "-leading-dash"):
        made = server.get("/ready", headers={"X-Request-ID": insane.encode("utf-8").decode("latin-1")}) \
            .header("X-Request-ID")
        assert re.fullmatch(r"[0-9a-f]{32}", made), made
    assert re.fullmatch(r"[0-9a-f]{32}", server.get("/nowhere").header("X-Request-ID"))
    server.stop()
    access = [r for r in log_lines(server) if r["logger"] == "gunicorn.access"]
    assert any(r["request_id"] == "req-42.abc" and r["path"] == "/ready" for r in access)


def test_console_format_for_development(serve, sqlite_env) -> None:
    """LOG_FORMAT=console (make run): readable lines with the request id, still redacted."""
    server = serve(LOG_FORMAT="console", **sqlite_env, **SECRET_ENV)
    server.get("/health", headers={"X-Request-ID": "console-1", "Authorization": f"Bearer {FAKE_JWT}"})
    server.stop()
    text = server.log()
    assert re.search(r"INFO +gunicorn\.access \[console-1\] GET /health 200 [\d.]+ms", text), text
    assert not any(line.startswith("{") for line in text.splitlines())
    for sentinel in SENTINELS:
        assert sentinel not in text


@pytest.mark.parametrize(("forwarded", "client"), [
    ("198.51.100.1, 203.0.113.7:5555", "203.0.113.7"),  # App Service's entry, rightmost, port dropped
    ("203.0.113.8", "203.0.113.8"),
    ("[2001:db8::5]:443", "2001:db8::5"),
    ("198.51.100.1, not-an-ip<script>", "127.0.0.1"),  # not an address: the TCP peer
    ("not-an-ip<script>, 198.51.100.2", "198.51.100.2"),  # the client's own left part is never believed
])
def test_the_logged_client_is_the_address_the_throttle_counts(serve, sqlite_env, forwarded: str,
                                                                client: str) -> None:
    """One rule for logs and the login throttle: TRUSTED_PROXY_COUNT from the right, an IP or REMOTE_ADDR."""
    server = serve(**sqlite_env, **fallback_env(), BCRYPT_ROUNDS="4")
    reply = login(server, ADMIN, "wrong", headers={"X-Forwarded-For": forwarded})
    server.stop()
    records = [r for r in log_lines(server) if r.get("request_id") == reply.header("X-Request-ID")]
    # The access line, and the fallback's warning that names the client it counted in its message.
    assert {r["logger"] for r in records} == {"gunicorn.access", "accounts.fallback"}
    assert {r["client"] for r in records} == {client}
    (warning,) = [r for r in records if r["logger"] == "accounts.fallback"]
    assert f"client={client} " in warning["message"]
    assert "<script>" not in server.log()


def test_access_lines_need_no_django_settings(serve) -> None:
    """gunicorn.conf.py's log format works for any WSGI app it serves. The access line's
    client once read TRUSTED_PROXY_COUNT from Django's settings, so under an app without
    them (the bench's baselines) every request logged a traceback instead."""
    server = serve(app="tests.support.plain_wsgi:application", TRUSTED_PROXY_COUNT="1")
    reply = server.get("/anything", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9:4444"})
    assert reply.status == 200
    server.stop()
    access = [r for r in log_lines(server) if r["logger"] == "gunicorn.access" and r["path"] == "/anything"]
    assert [(r["status"], r["client"]) for r in access] == [(200, "203.0.113.9")]


def test_requests_django_refuses_are_one_warning_and_a_400_that_says_why(serve, sqlite_env) -> None:
    """A Host header not allowed and a form of too many fields are the client's mistakes:
    a 400 naming the rule, one WARNING line each, no traceback, nothing at ERROR."""
    server = serve(ALLOWED_HOSTS="api.example.com", **sqlite_env)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    wrong_host = server.post("/login", body="username=a&password=b", headers={**form, "Host": "evil.example"})
    assert wrong_host.status == 400
    assert "Host header" in wrong_host.json()["detail"] and "evil.example" not in wrong_host.body.decode()
    many = server.post("/login", body="&".join(f"f{i}=1" for i in range(1500)),
                       headers={**form, "Host": "api.example.com"})
    assert many.status == 400 and "more than 1000 form fields" in many.json()["detail"], many.body
    server.stop()
    records = log_lines(server)
    security = [r for r in records if r["logger"].startswith("django.security.")]
    assert {r["logger"] for r in security} == {"django.security.DisallowedHost", "django.security.TooManyFieldsSent"}
    assert all(r["level"] == "WARNING" for r in security), security
    assert not [r for r in records if r["level"] == "ERROR"], [r for r in records if r["level"] == "ERROR"]
    assert "Traceback" not in server.log()
