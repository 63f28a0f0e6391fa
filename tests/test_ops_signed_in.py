"""The operations routes with real sign-ins: diagnostics for staff (the fallback admin
while the database is down), login outcomes in /metrics, and the hash script's output
as a working ADMIN_PASSWORD_HASH."""

from __future__ import annotations

import json
import subprocess
from http import HTTPStatus

from tests.support.accounts import (
    ADMIN,
    ADMIN_PASSWORD,
    assert_tokens,
    bearer,
    create_users,
    fallback_env,
    login,
    unique,
)
from tests.support.faults import refused_port
from tests.support.servers import PYTHON, ROOT, manage, service_env
from tests.test_metrics import TOKEN, sample, scrape

DIAGNOSTICS = "/api/ops/diagnostics"


def verdicts(report: dict) -> list[tuple]:
    return [(c["check"], c["status"], c["cause"]) for c in report["checks"]]


def test_staff_read_diagnostics_others_are_refused(serve, sqlite_env) -> None:
    """Same document as `diagnose --json` for a staff user; 403 for others; 401 without a token."""
    staff, member, password = unique("ops"), unique("member"), "diagnostics-Pa55"
    create_users(sqlite_env, {"username": staff, "password": password, "staff": True},
                 {"username": member, "password": password})
    server = serve(**sqlite_env)
    staff_token = assert_tokens(login(server, staff, password))["access_token"]
    member_token = assert_tokens(login(server, member, password))["access_token"]

    reply = server.get(DIAGNOSTICS, headers=bearer(staff_token))
    assert reply.status == HTTPStatus.OK, reply.body
    assert reply.header("Cache-Control") == "no-store"
    command = manage(service_env(**sqlite_env), "diagnose", "--json")
    assert verdicts(reply.json()) == verdicts(json.loads(command.stdout))
    assert reply.json()["ok"] is (command.returncode == 0)

    assert server.get("/ops/diagnostics/", headers=bearer(staff_token)).status == HTTPStatus.OK
    refused = server.get(DIAGNOSTICS, headers=bearer(member_token))
    assert refused.status == HTTPStatus.FORBIDDEN and "checks" not in refused.json()
    anonymous = server.get(DIAGNOSTICS)
    assert anonymous.status == HTTPStatus.UNAUTHORIZED
    assert anonymous.header("WWW-Authenticate").lower().startswith("bearer")


def test_fallback_admin_reads_diagnostics_while_the_database_is_down(serve) -> None:
    """The point of the route: with the database refusing, the fallback admin learns why."""
    server = serve(DB_HOST="127.0.0.1", DB_PORT=str(refused_port()), DB_USER="app", DB_SSL_DISABLED="true",
                   DB_CONNECT_TIMEOUT="2", BCRYPT_ROUNDS="4", **fallback_env())
    token = assert_tokens(login(server, ADMIN, ADMIN_PASSWORD))["access_token"]
    reply = server.get(DIAGNOSTICS, headers=bearer(token))
    assert reply.status == HTTPStatus.OK, reply.body
    report = reply.json()
    assert report["ok"] is False
    database = next(c for c in report["checks"] if c["check"] == "database")
    assert database["cause"] == "refused" and "DB_PORT" in database["action"]


def test_login_outcomes_are_counted(serve, sqlite_env) -> None:
    """success, failure, fallback, throttled from one server; unavailable from one whose database refuses."""
    name, password = unique("counted"), "counted-Pa55"
    create_users(sqlite_env, {"username": name, "password": password})
    server = serve(METRICS_TOKEN=TOKEN, LOGIN_FAILURES_PER_USER="2", BCRYPT_ROUNDS="4", **sqlite_env,
                   **fallback_env())
    assert login(server, name, password).status == HTTPStatus.OK
    assert login(server, ADMIN, ADMIN_PASSWORD).status == HTTPStatus.OK
    victim = unique("victim")
    statuses = [login(server, victim, "wrong").status for _ in range(3)]
    assert statuses == [HTTPStatus.BAD_REQUEST, HTTPStatus.BAD_REQUEST, HTTPStatus.TOO_MANY_REQUESTS]
    text = scrape(server)
    counts = {o: sample(text, "infinityai_login_attempts_total", outcome=o)
              for o in ("success", "failure", "fallback", "throttled", "unavailable")}
    assert counts == {"success": 1, "failure": 2, "fallback": 1, "throttled": 1, "unavailable": 0}

    down = serve(METRICS_TOKEN=TOKEN, DB_HOST="127.0.0.1", DB_PORT=str(refused_port()), DB_SSL_DISABLED="true",
                 BCRYPT_ROUNDS="4", **fallback_env())
    assert login(down, name, password).status == HTTPStatus.SERVICE_UNAVAILABLE
    assert sample(scrape(down), "infinityai_login_attempts_total", outcome="unavailable") == 1


def test_generated_hash_works_as_the_fallback_admins(serve, sqlite_env) -> None:
    password = "generated-é-Pa55"
    result = subprocess.run([str(PYTHON), str(ROOT / "scripts" / "generate_bcrypt_hash.py"), "--cost", "4", password],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    server = serve(**sqlite_env, **fallback_env(password_hash=result.stdout.strip()))
    assert_tokens(login(server, ADMIN, password))
    assert login(server, ADMIN, password + "x").status == HTTPStatus.BAD_REQUEST
