"""/ready and /health against real databases and real faults."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from health.checks import REUSE_SECONDS
from tests.support import mysql
from tests.support.faults import ClosingListener, HangingListener, refused_port
from tests.support.mariadb import MariaDBInstance
from tests.support.servers import LiveServer, manage, service_env

HEALTH_KEYS = {"status", "database", "timestamp", "version", "service", "latency_ms"}
TIMEOUT = 1.0
BOUND = TIMEOUT + 0.25
# The bound is the contract's; this margin absorbs a loaded 2-core CI machine.
MARGIN = 0.25


def assert_health(reply, database: str) -> dict:
    assert reply.status == 200, reply.body
    body = reply.json()
    assert set(body) == HEALTH_KEYS
    assert body["database"] == database
    assert body["status"] == ("healthy" if database == "connected" else "degraded")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", body["timestamp"])
    assert reply.header("Cache-Control") == "no-store"
    return body


def admin_login_attempt(server: LiveServer) -> int:
    """An ordinary database-backed request: a sign-in attempt on the admin login form."""
    page = server.get("/admin/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
    cookie = re.search(r"csrftoken=([^;]+)", page.header("Set-Cookie")).group(1)
    reply = server.post("/admin/login/", body=f"csrfmiddlewaretoken={token}&username=nobody&password=x",
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Cookie": f"csrftoken={cookie}"})
    return reply.status


def test_ready_touches_nothing(serve) -> None:
    """/ready answers 200 even when the configured database does not exist at all."""
    server = serve(DB_HOST="127.0.0.1", DB_PORT=str(refused_port()), DB_SSL_DISABLED="true")
    reply = server.get("/ready")
    assert reply.status == 200
    assert reply.json() == {"status": "ready", "service": "infinityai-backend-app"}
    assert server.get("/api/ready/").status == 200


def test_health_connected(serve, backend_env) -> None:
    server = serve(**backend_env)
    body = assert_health(server.get("/health"), "connected")
    assert isinstance(body["latency_ms"], float)
    assert body["service"] == "infinityai-backend-app" and body["version"]
    assert_health(server.get("/api/health/"), "connected")


def test_health_strict_answers_503_when_degraded(serve, sqlite_env) -> None:
    assert serve(**sqlite_env).get("/health?strict=1").status == 200
    server = serve(DB_HOST="127.0.0.1", DB_PORT=str(refused_port()), DB_SSL_DISABLED="true")
    reply = server.get("/health?strict=1")
    assert reply.status == 503 and reply.json()["database"] == "error"


def test_refused_port_is_an_error_at_once(serve) -> None:
    server = serve(DB_HOST="127.0.0.1", DB_PORT=str(refused_port()), DB_SSL_DISABLED="true",
                   DB_PASSWORD="pw-sentinel-41", HEALTH_DB_TIMEOUT=str(TIMEOUT))
    reply = server.get("/health")
    body = assert_health(reply, "error")
    assert body["latency_ms"] is None
    assert reply.elapsed < BOUND
    for leak in ("127.0.0.1", "root", "pw-sentinel-41", "Can't connect", "OperationalError"):
        assert leak not in reply.body.decode()


def test_port_of_something_that_is_not_mysql_is_an_error(serve) -> None:
    """A listener that closes at once never had a connection to lose: `error`, not `disconnected`."""
    with ClosingListener() as listener:
        server = serve(DB_HOST="127.0.0.1", DB_PORT=str(listener.port), DB_SSL_DISABLED="true",
                       HEALTH_DB_TIMEOUT=str(TIMEOUT))
        reply = server.get("/health")
    assert_health(reply, "error")
    assert reply.elapsed < BOUND


@pytest.mark.mysql
def test_tls_required_and_a_server_without_tls_is_an_error_not_a_plain_session(serve, mysql_env) -> None:
    """TLS is on by default. MariaDB's client library, asked for ssl_mode=REQUIRED by a
    server that offers no TLS, signs in over plain TCP without a word; the service
    refuses that session, so the database is `error` and sign-ins are 503, not served
    over an unencrypted link."""
    if mysql.execute("SHOW VARIABLES LIKE 'have_ssl'")[0][1] == "YES":
        pytest.skip("the local MariaDB offers TLS here; tests/test_diagnose.py covers a TLS server")
    server = serve(**{**mysql_env, "DB_SSL_DISABLED": None, "HEALTH_DB_TIMEOUT": str(TIMEOUT)})
    reply = server.get("/health")
    assert_health(reply, "error")
    assert reply.elapsed < BOUND + MARGIN
    login = server.post("/login", body="username=someone&password=whatever",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert login.status == 503, login.body
    assert login.header("Content-Type") == "application/json"


def test_never_answering_database_times_out_within_bound_without_piling_up(serve) -> None:
    with HangingListener() as listener:
        server = serve(DB_HOST="127.0.0.1", DB_PORT=str(listener.port), DB_SSL_DISABLED="true",
                       HEALTH_DB_TIMEOUT=str(TIMEOUT), DB_CONNECT_TIMEOUT="5")
        (worker,) = server.worker_pids()
        # Warm up with concurrent requests so gunicorn's thread pool is at its size
        # before the baseline: its growth is not what this test measures.
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: server.get("/ready"), range(64)))
        baseline = LiveServer.threads(worker)
        worst = 0.0
        for _ in range(30):
            reply = server.get("/health")
            assert_health(reply, "timeout")
            worst = max(worst, reply.elapsed)
        after = LiveServer.threads(worker)
        print(f"hung database: worst /health {worst:.3f}s of 30; threads {baseline} -> {after}; "
              f"connections accepted {len(listener.accepted)}")
        assert worst < BOUND + MARGIN
        assert after <= baseline + 2
        # One check in flight at a time: 30 probes in ~2 s cost one connection attempt.
        assert len(listener.accepted) <= 2
        assert server.get("/ready").status == 200


def test_probe_host_headers_and_forwarded_proto(serve, sqlite_env) -> None:
    server = serve(**sqlite_env, SECURE_SSL_REDIRECT="true")
    probe_hosts = ("127.0.0.1:8000", "169.254.1.1:8000", "")
    for host in probe_hosts:
        for path in ("/ready", "/health", "/api/health"):
            assert server.get(path, headers={"Host": host}).status == 200, (host, path)
    assert "DisallowedHost" not in server.log()  # probes never even look at the host
    for host in probe_hosts[1:]:  # 127.0.0.1 is in the default ALLOWED_HOSTS
        reply = server.get("/", headers={"Host": host, "X-Forwarded-Proto": "https"})
        assert reply.status == 400 and "Host header" in reply.json()["detail"], reply.body
    allowed = {"Host": "localhost"}
    assert server.get("/", headers=allowed).status == 301  # plain HTTP is redirected
    assert server.get("/", headers={**allowed, "X-Forwarded-Proto": "https"}).status == 200


def test_errors_are_json(serve, sqlite_env) -> None:
    server = serve(**sqlite_env)
    reply = server.get("/api/nothing-here")
    assert reply.status == 404 and reply.json() == {"detail": "Not Found"}
    reply = server.post("/health", body=b"")
    assert reply.status == 405 and "GET" in reply.header("Allow") and "detail" in reply.json()


def test_kill_sessions_then_health_and_requests_recover(serve, mysql_env, mysql_database) -> None:
    server = serve(**mysql_env)
    assert_health(server.get("/health"), "connected")
    assert admin_login_attempt(server) == 200
    assert mysql.kill_sessions(mysql_database) >= 1
    states = [server.get("/health").json()["database"] for _ in range(2)]
    assert "connected" in states, states
    statuses = [admin_login_attempt(server) for _ in range(2)]
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}, statuses
    assert len(server.worker_pids()) == 1


@pytest.mark.mysql
def test_server_restart_then_health_and_requests_recover(serve, tmp_path: Path) -> None:
    from tests.conftest import skip_or_fail

    reason = mysql.unavailable_reason()
    if reason:
        skip_or_fail(reason)
    instance = MariaDBInstance(tmp_path / "mariadb").start()
    try:
        name = mysql.create_database(port=instance.port)
        env = mysql.env_for(name, port=instance.port)
        assert manage(service_env(**env), "migrate", "--no-input").returncode == 0
        server = serve(**env, HEALTH_DB_TIMEOUT=str(TIMEOUT))
        assert_health(server.get("/health"), "connected")
        (worker,) = server.worker_pids()
        instance.stop()
        time.sleep(REUSE_SECONDS)  # a result is answered again for this long (health/checks.py)
        down = server.get("/health")
        assert down.elapsed < BOUND + MARGIN and down.json()["database"] in ("error", "disconnected")
        assert admin_login_attempt(server) == 503
        instance.start()
        time.sleep(0.2)
        states = [server.get("/health").json()["database"] for _ in range(2)]
        assert "connected" in states, states
        statuses = [admin_login_attempt(server) for _ in range(2)]
        assert statuses[-1] == 200 and set(statuses) <= {200, 503}, statuses
        assert server.worker_pids() == [worker]  # no process restart
    finally:
        instance.stop()


@pytest.mark.mysql
def test_probes_reuse_one_connection_per_worker(serve) -> None:
    """A probe opens no connection of its own: the same sessions serve every probe."""
    from tests.conftest import skip_or_fail

    reason = mysql.unavailable_reason()
    if reason:
        skip_or_fail(reason)
    # A database of this test's own (SELECT 1 needs no tables), so that no other
    # test's server, still closing its sessions, is counted here.
    database = mysql.create_database()
    try:
        server = serve(workers=2, **mysql.env_for(database))

        def probe_all(count: int) -> set[str]:
            with ThreadPoolExecutor(4) as pool:
                return {r.json()["database"] for r in pool.map(lambda _: server.get("/health"), range(count))}

        # Which worker accepts a connection is the kernel's choice (on a quick machine one
        # worker may take every probe for a while): probe until both workers have made
        # their one connection (bounded), then count.
        for _ in range(30):
            assert probe_all(20) == {"connected"}
            if len(mysql.sessions(database)) >= 2:
                break
        before = set(mysql.sessions(database))
        assert probe_all(50) == {"connected"}
        after = set(mysql.sessions(database))
        # Every session seen before still serves, and there is at most one per worker (a
        # worker that had not been reached yet may have made its first meanwhile).
        assert 1 <= len(after) <= 2 and before <= after, (before, after)
    finally:
        mysql.drop_database(database)


@pytest.mark.mysql
def test_a_burst_of_probes_is_not_a_burst_of_queries(serve, tmp_path: Path) -> None:
    """However many /health arrive, a process runs at most one `SELECT 1` per
    REUSE_SECONDS (plus the one in flight): a probe flood must not become a load on the
    database. Counted on a private server, whose `Com_select` only the service moves."""
    from tests.conftest import skip_or_fail

    reason = mysql.unavailable_reason()
    if reason:
        skip_or_fail(reason)
    instance = MariaDBInstance(tmp_path / "mariadb").start()
    try:
        server = serve(**mysql.env_for(mysql.create_database(port=instance.port), port=instance.port))
        assert_health(server.get("/health"), "connected")
        status = mysql.admin_connect(instance.port)

        def selects() -> int:
            with status.cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS LIKE 'Com_select'")
                return int(cur.fetchone()[1])

        first = selects()
        per_status = selects() - first  # whether a status query counts as a SELECT itself
        before, started = first + per_status, time.monotonic()
        deadline = started + 1.0  # long enough to need about ten checks, whatever the machine's speed

        def probe_for_a_second(_: int) -> list[str]:
            states = []
            while time.monotonic() < deadline and len(states) < 1000:
                states.append(server.get("/health").json()["database"])
            return states

        with ThreadPoolExecutor(8) as pool:
            states = [state for batch in pool.map(probe_for_a_second, range(8)) for state in batch]
        elapsed = time.monotonic() - started
        ran = selects() - before - per_status
        assert len(states) >= 100 and set(states) == {"connected"}, (len(states), set(states))
        assert elapsed / REUSE_SECONDS / 3 <= ran <= elapsed / REUSE_SECONDS + 2, (ran, len(states), round(elapsed, 2))
    finally:
        instance.stop()
