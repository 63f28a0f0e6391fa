"""Fault drills: the real service (gunicorn, production settings, two workers) under a
steady mixed load while its database or cache fails and comes back.

Each drill prints one summary line (run pytest with -s to see them) and asserts
the contract over every response recorded; see tests/support/drills.py.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from health.checks import REUSE_SECONDS
from tests.support import mysql
from tests.support import redis as redis_support
from tests.support.accounts import ADMIN, ADMIN_HASH, ADMIN_PASSWORD, create_users, fallback_env, login
from tests.support.drills import (
    DRILL_DB_TIMEOUTS,
    HEALTH_DB_TIMEOUT,
    MARGIN,
    Credentials,
    Expect,
    run_drill,
    run_steady,
)
from tests.support.mariadb import MariaDBInstance
from tests.support.private_db import PrivateDatabase, provision
from tests.support.proxy import TcpProxy
from tests.support.redis import RedisInstance
from tests.support.servers import manage, service_env
from tests.support.tls import make_certificates
from tests.support.tls_mariadb import TlsMariaDB

pytestmark = [pytest.mark.mysql, pytest.mark.slow]

NOT_CONNECTED = {"timeout", "error", "disconnected"}


def _require(reason: str | None) -> None:
    if reason:
        from tests.conftest import skip_or_fail

        skip_or_fail(reason)


@pytest.fixture(scope="module")
def private_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateDatabase]:
    """A private MariaDB of this module's own: the drills stop and freeze it."""
    _require(mysql.unavailable_reason())
    instance = MariaDBInstance(tmp_path_factory.mktemp("drill-mariadb")).start()
    try:
        db = provision(instance)
        create_users(db.env(), {"username": DB_USER, "password": DB_USER_PASSWORD})
        yield db
    finally:
        instance.stop()


DB_USER, DB_USER_PASSWORD = "drill-user", "drill-user-pw-" + secrets.token_hex(6)


def credentials(db: PrivateDatabase) -> Credentials:
    return Credentials(DB_USER, DB_USER_PASSWORD, ADMIN, ADMIN_PASSWORD,
                       secrets=[DB_USER_PASSWORD, ADMIN_PASSWORD, ADMIN_HASH, db.password])


def drill_env(db: PrivateDatabase, port: int | None = None, **extra: str) -> dict[str, str]:
    """Production settings but for short database timeouts (see DRILL_DB_TIMEOUTS) and
    bcrypt's cheapest cost; the fallback admin enabled."""
    return {**db.env(port), **DRILL_DB_TIMEOUTS, "HEALTH_DB_TIMEOUT": str(HEALTH_DB_TIMEOUT),
            "GUNICORN_THREADS": "8", "BCRYPT_ROUNDS": "4", **fallback_env(), **extra}


def test_drill_database_stopped_and_started(serve, private_db: PrivateDatabase) -> None:
    """MariaDB stops under load: /health says error at once, then connected again
    once it is back, with no restart of the service."""
    server = serve(workers=2, **drill_env(private_db))
    instance = private_db.instance
    run_drill("mariadb-stop-start", server, credentials(private_db), fault=instance.stop, restore=instance.start,
              expect=Expect(health_during={"error", "disconnected"}, login_db_during={503}))


def test_drill_sessions_killed(serve, private_db: PrivateDatabase) -> None:
    """Every session of the service is KILLed, three times a second apart: the
    service reconnects on its own and /health stays truthful and bounded."""
    server = serve(workers=2, **drill_env(private_db))
    killed: list[int] = []

    def kill_repeatedly() -> None:
        for _ in range(3):
            killed.append(private_db.kill_sessions())
            time.sleep(1)

    run_drill("sessions-killed", server, credentials(private_db), fault=kill_repeatedly, restore=lambda: None,
              expect=Expect(health_during=None), fault_for=0)
    assert sum(killed) >= 2, killed  # the service did hold sessions to kill


def test_drill_swap_to_black_hole_and_back(serve, private_db: PrivateDatabase) -> None:
    """Through a loopback proxy, the database is cut mid-connection, then swapped for
    a listener that accepts and never answers, then swapped back; the service is
    never restarted or reconfigured."""
    with TcpProxy(private_db.instance.port) as proxy:
        server = serve(workers=2, **drill_env(private_db, port=proxy.port))
        cut: list[int] = []

        def cut_then_hang() -> None:
            cut.append(proxy.cut())
            proxy.hang()

        result = run_drill("black-hole-swap", server, credentials(private_db), fault=cut_then_hang,
                           restore=lambda: proxy.forward(private_db.instance.port),
                           expect=Expect(health_during=NOT_CONNECTED, login_db_during={503}), fault_for=5)
        assert cut[0] >= 1  # the service had connections open through the proxy
        timeouts = [s for s in result.load.of("health") if s.database == "timeout"]
        assert timeouts, "a never-answering database must show as timeout at least once"


def test_drill_frozen_mid_query(serve, private_db: PrivateDatabase) -> None:
    """MariaDB frozen with SIGSTOP after the handshake: connections stay open and
    nothing answers. Only the read timeout and a /health that does not wait for its
    checking thread keep the service bounded."""
    server = serve(workers=2, **drill_env(private_db))
    instance = private_db.instance
    result = run_drill("mariadb-sigstop", server, credentials(private_db), fault=instance.freeze, restore=instance.thaw,
                       expect=Expect(health_during=NOT_CONNECTED, login_db_during={503}), fault_for=5)
    assert any(s.database == "timeout" for s in result.load.of("health"))


def failures_until_locked(server, username: str, most: int) -> int | None:
    """Wrong-password sign-ins until the lockout answers 429; how many it took."""
    for n in range(1, most + 1):
        reply = login(server, username, "not-the-password")
        if reply.status == 429:
            return n
        assert reply.status == 400, reply.body
    return None


def test_drill_redis_stopped_and_started(serve, private_db: PrivateDatabase, tmp_path: Path) -> None:
    """The Redis behind REDIS_URL stops and starts: the service keeps answering and
    the database stays connected throughout (the cache is an optimisation). What
    degrades: while Redis is away the lockout counts in the folder this instance's
    workers share, so it still engages at LOGIN_FAILURES_PER_USER here, but each
    instance counts apart (two instances would allow twice the guesses), and counts
    made during the outage are not in Redis when it returns."""
    _require(redis_support.unavailable_reason())
    limit, workers = 5, 2
    redis = RedisInstance(tmp_path / "redis").start()
    locked: dict[str, int | None] = {}
    try:
        server = serve(workers=workers, **drill_env(private_db, REDIS_URL=redis.url,
                                                    LOGIN_FAILURES_PER_USER=str(limit), LOGIN_FAILURES_PER_CLIENT="0"))
        locked["redis up"] = failures_until_locked(server, "nobody-" + secrets.token_hex(4), limit * workers + 1)

        def stop_and_try() -> None:
            redis.stop()
            locked["redis down"] = failures_until_locked(server, "nobody-" + secrets.token_hex(4),
                                                         limit * workers + 1)

        run_drill("redis-stop-start", server, credentials(private_db), fault=stop_and_try, restore=redis.start,
                  expect=Expect(health_during={"connected"}, login_db_during={200}))
        print(f"drill redis-stop-start: lockout after {locked['redis up']} failures with Redis, "
              f"{locked['redis down']} without (counted per instance)")
        assert "shared cache unavailable" in server.log()  # the degradation is logged
    finally:
        redis.stop()
    assert locked["redis up"] == limit + 1  # shared by both workers
    assert locked["redis down"] == limit + 1  # still shared by both workers: their folder


@pytest.fixture(scope="module")
def tls_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateDatabase]:
    """A second private MariaDB that requires TLS, with certificates made now."""
    _require(mysql.unavailable_reason())
    base = tmp_path_factory.mktemp("drill-tls")
    certs = make_certificates(base / "certs")
    instance = TlsMariaDB(base / "mariadb", certs).start()
    try:
        db = provision(instance, **tls_env(certs.ca))
        create_users(db.env(**tls_env(certs.ca)), {"username": DB_USER, "password": DB_USER_PASSWORD})
        yield db
    finally:
        instance.stop()


def tls_env(ca: Path, **extra: str) -> dict[str, str]:
    return {"DB_SSL_DISABLED": "false", "DB_SSL_VERIFY": "true", "DB_SSL_CA": str(ca), **extra}


def test_drill_tls_verified_server_restarted(serve, tls_db: PrivateDatabase) -> None:
    """With DB_SSL_VERIFY and the right CA the service connects over verified TLS to a
    server that refuses anything else, and reconnects so after the server restarts."""
    assert isinstance(tls_db.instance, TlsMariaDB)
    server = serve(workers=2, **drill_env(tls_db, **tls_env(tls_db.instance.certs.ca)))
    instance = tls_db.instance
    run_drill("tls-verified-restart", server, credentials(tls_db), fault=instance.stop, restore=instance.start,
              expect=Expect(health_during={"error", "disconnected"}, login_db_during={503}), fault_for=2)


@pytest.mark.parametrize("case", ["wrong-ca", "tls-disabled"])
def test_drill_tls_refused(serve, tls_db: PrivateDatabase, case: str) -> None:
    """A CA that did not sign the server's certificate, or DB_SSL_DISABLED=true against
    require_secure_transport: /health says error at once, every time, and nothing hangs."""
    assert isinstance(tls_db.instance, TlsMariaDB)
    env = (tls_env(tls_db.instance.certs.other_ca) if case == "wrong-ca"
           else {"DB_SSL_DISABLED": "true", "DB_SSL_VERIFY": "false"})
    server = serve(workers=2, **drill_env(tls_db, **env))
    load = run_steady(f"tls-{case}", server, credentials(tls_db), health={"error"}, login_db={503})
    assert max(s.elapsed for s in load.of("health")) < HEALTH_DB_TIMEOUT  # refused at once, not timed out

    started = time.monotonic()
    result = manage(service_env(**drill_env(tls_db, **env)), "diagnose", "--json", timeout=30)
    elapsed = time.monotonic() - started
    database = next(c for c in json.loads(result.stdout)["checks"] if c["check"] == "database")
    print(f"drill tls-{case}: diagnose exit {result.returncode} in {elapsed:.1f}s, cause {database['cause']}")
    assert result.returncode == 1
    assert database["cause"] == ("ca_untrusted" if case == "wrong-ca" else "tls_required")
    assert tls_db.password not in result.stdout + result.stderr


def test_probe_burst_on_hung_database_leaves_threads_for_other_requests(serve, mysql_env) -> None:
    """Eight concurrent /health on a worker of four threads just after the database
    hung: two wait for the running check and say `timeout` at its deadline, the rest
    answer at once with the previous result, so a /ready sent meanwhile is not queued
    behind the probes; once the check has overrun its deadline, every answer is `timeout`."""
    deadline = 2.0
    with TcpProxy(int(mysql_env["DB_PORT"])) as proxy:
        server = serve(workers=1, GUNICORN_THREADS="4", HEALTH_DB_TIMEOUT=str(deadline),
                       **{**mysql_env, "DB_PORT": str(proxy.port)})
        assert server.get("/health").json()["database"] == "connected"
        proxy.hang()
        time.sleep(REUSE_SECONDS)  # past the window in which that result is answered again
        with ThreadPoolExecutor(8) as pool:
            probes = [pool.submit(server.get, "/health") for _ in range(8)]
            time.sleep(0.3)
            ready = server.get("/ready")
            replies = [probe.result() for probe in probes]
        later = server.get("/health")
    assert ready.status == 200
    assert ready.elapsed < deadline / 2, ready.elapsed  # it did not wait for a probe's thread
    assert max(reply.elapsed for reply in replies) < deadline + 0.25 + MARGIN
    waited = [reply for reply in replies if reply.elapsed > deadline / 2]
    at_once = [reply for reply in replies if reply.elapsed <= deadline / 2]
    assert 1 <= len(waited) <= 2, [round(reply.elapsed, 2) for reply in replies]
    assert {reply.json()["database"] for reply in waited} == {"timeout"}
    assert {reply.json()["database"] for reply in at_once} == {"connected"}  # the previous result
    assert later.json()["database"] == "timeout" and later.elapsed < 0.5  # the check overran: no waiting


def test_sign_in_burst_on_hung_database_leaves_threads_for_other_requests(serve, mysql_env) -> None:
    """Eight concurrent sign-ins on a worker of four threads while the database hangs
    mid-connection: two wait on it (DATABASE_WAITERS, the threads less two), the rest
    are told 503 after a short wait, so a /ready sent meanwhile is not queued behind
    them for the driver's timeout. Every sign-in is a 503 JSON with Retry-After."""
    timeout = 3.0
    with TcpProxy(int(mysql_env["DB_PORT"])) as proxy:
        server = serve(workers=1, GUNICORN_THREADS="4", DB_CONNECT_TIMEOUT=str(int(timeout)),
                       DB_READ_TIMEOUT=str(int(timeout)), BCRYPT_ROUNDS="4",
                       **{**mysql_env, "DB_PORT": str(proxy.port)})
        assert server.get("/health").json()["database"] == "connected"
        proxy.hang()
        with ThreadPoolExecutor(8) as pool:
            attempts = [pool.submit(login, server, f"burst-{i}", "whatever") for i in range(8)]
            time.sleep(0.3)
            ready = server.get("/ready")
            replies = [attempt.result() for attempt in attempts]
    assert ready.status == 200
    assert ready.elapsed < timeout / 3, ready.elapsed  # not behind a sign-in's wait on the driver
    assert [reply.status for reply in replies] == [503] * 8, [(r.status, r.body) for r in replies]
    assert all(reply.header("Retry-After") and "detail" in reply.json() for reply in replies)
    assert max(reply.elapsed for reply in replies) < 2 * timeout + MARGIN  # a read timeout, then a reconnect
