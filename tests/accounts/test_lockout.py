"""Lockout: 429 with Retry-After after the configured failures, per user name and per client."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

from tests.support.accounts import INCORRECT, assert_tokens, create_users, login, unique

LIMITS = {"LOGIN_FAILURES_PER_USER": "3", "LOGIN_FAILURES_PER_CLIENT": "5", "LOGIN_LOCKOUT_SECONDS": "120"}


def random_ip() -> str:
    return f"203.0.113.{secrets.randbelow(250) + 1}"


def assert_throttled(reply) -> None:
    assert reply.status == HTTPStatus.TOO_MANY_REQUESTS, reply.body
    assert 1 <= int(reply.header("Retry-After")) <= 120
    assert "detail" in reply.json()


def test_user_name_is_locked_after_the_configured_failures(start, accounts_env) -> None:
    name = unique("erin")
    create_users(accounts_env, {"username": name, "password": "right-password"})
    server = start(**LIMITS)
    for i in range(3):
        reply = login(server, name, "wrong", headers={"X-Forwarded-For": random_ip()})
        assert reply.json() == INCORRECT, i
    # From another address, even with the right password: the user name is locked.
    assert_throttled(login(server, name, "right-password", headers={"X-Forwarded-For": random_ip()}))
    # Another user is not.
    assert login(server, unique("frank"), "x", headers={"X-Forwarded-For": random_ip()}).json() == INCORRECT


def test_the_workers_of_one_instance_share_the_count_without_redis(start) -> None:
    """No REDIS_URL: two workers still count together (a folder they share), so the
    limit is the configured one, not one per worker."""
    server = start(workers=2, **LIMITS)
    name = unique("kim")
    for i in range(3):
        assert login(server, name, "wrong", headers={"X-Forwarded-For": random_ip()}).json() == INCORRECT, i
    # Many at once, each on a new connection: one worker alone cannot take them all.
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: login(server, name, "wrong", headers={"X-Forwarded-For": random_ip()}),
                                range(32)))
    assert [r.status for r in replies] == [HTTPStatus.TOO_MANY_REQUESTS] * 32, [r.status for r in replies]


def test_processes_given_one_cache_folder_count_together(start, tmp_path) -> None:
    """What the workers of one instance do, made deterministic: two processes given the
    same INSTANCE_CACHE_DIR, failures on one, the lockout on the other."""
    folder = str(tmp_path / "instance-cache")
    first, second = start(INSTANCE_CACHE_DIR=folder, **LIMITS), start(INSTANCE_CACHE_DIR=folder, **LIMITS)
    name = unique("lou")
    for server in (first, second, first):
        assert login(server, name, "wrong", headers={"X-Forwarded-For": random_ip()}).json() == INCORRECT
    assert_throttled(login(second, name, "wrong", headers={"X-Forwarded-For": random_ip()}))


def test_success_clears_the_user_name_count(start, accounts_env) -> None:
    name = unique("gina")
    create_users(accounts_env, {"username": name, "password": "right-password"})
    server = start(**LIMITS)
    for _ in range(2):
        login(server, name, "wrong", headers={"X-Forwarded-For": random_ip()})
    assert_tokens(login(server, name, "right-password", headers={"X-Forwarded-For": random_ip()}))
    for _ in range(2):
        assert login(server, name, "wrong", headers={"X-Forwarded-For": random_ip()}).json() == INCORRECT


def test_one_client_behind_app_service_with_changing_ports_is_one_client(serve, sqlite_env) -> None:
    """App Service appends `ip:port`; a new port per connection must not make a new client."""
    server = serve(**sqlite_env, **LIMITS, BCRYPT_ROUNDS="4")
    client = random_ip()
    for port in range(40000, 40005):
        reply = login(server, unique("x"), "pw", headers={"X-Forwarded-For": f"10.9.9.9, {client}:{port}"})
        assert reply.json() == INCORRECT
    assert_throttled(login(server, unique("x"), "pw", headers={"X-Forwarded-For": f"{client}:41000"}))
    # The left part of X-Forwarded-For is the client's to choose: it changes nothing.
    assert_throttled(login(server, unique("x"), "pw", headers={"X-Forwarded-For": f"1.2.3.4, {client}:41001"}))
    assert login(server, unique("x"), "pw", headers={"X-Forwarded-For": f"{random_ip()}:41000"}).status == 400


def test_two_processes_share_the_count_through_redis(serve, sqlite_env, redis_server) -> None:
    env = {**sqlite_env, **LIMITS, "BCRYPT_ROUNDS": "4", "REDIS_URL": redis_server.url}
    first, second = serve(**env), serve(**env)
    name = unique("hal")
    for server in (first, second, first):
        assert login(server, name, "wrong", headers={"X-Forwarded-For": random_ip()}).json() == INCORRECT
    assert_throttled(login(second, name, "wrong", headers={"X-Forwarded-For": random_ip()}))

    # Redis goes away: the service keeps answering and counts in the instance's folder instead.
    redis_server.stop()
    other = unique("ivy")
    for _ in range(3):
        reply = login(first, other, "wrong", headers={"X-Forwarded-For": random_ip()})
        assert reply.json() == INCORRECT, reply.body
    assert_throttled(login(first, other, "wrong", headers={"X-Forwarded-For": random_ip()}))
    assert "shared cache unavailable" in first.log()
    assert "Traceback" not in first.log()


def test_lockout_works_while_the_database_is_down(serve) -> None:
    from tests.support.accounts import ADMIN, ADMIN_PASSWORD, fallback_env
    from tests.support.faults import refused_port

    server = serve(**fallback_env(), **LIMITS, BCRYPT_ROUNDS="4", DB_HOST="127.0.0.1",
                   DB_PORT=str(refused_port()), DB_SSL_DISABLED="true")
    for _ in range(3):
        assert login(server, ADMIN, "guess", headers={"X-Forwarded-For": random_ip()}).status == 503
    assert_throttled(login(server, ADMIN, ADMIN_PASSWORD, headers={"X-Forwarded-For": random_ip()}))


def test_changing_case_does_not_escape_a_user_name_lockout_on_mariadb(serve, mysql_env) -> None:
    """MariaDB's collation finds `ALICE` and `alicé` as `alice`: the lockout counts them as one name."""
    name = unique("alice")
    create_users(mysql_env, {"username": name, "password": "right-password"})
    server = serve(**mysql_env, **LIMITS, BCRYPT_ROUNDS="4")
    for variant in (name, name.upper(), name.title()):
        assert login(server, variant, "wrong", headers={"X-Forwarded-For": random_ip()}).json() == INCORRECT
    for variant in (name, name.upper(), name.swapcase(), name.replace("e", "\u00e9", 1)):
        assert_throttled(login(server, variant, "right-password", headers={"X-Forwarded-For": random_ip()}))
