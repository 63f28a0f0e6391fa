"""Two instances of the service, as App Service runs them: two gunicorn servers on two
ports sharing one MariaDB and one Redis, each with its own workers and metrics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http import HTTPStatus
from urllib.parse import urlencode

import bcrypt
import pytest

from tests.support import mysql
from tests.support import redis as redis_support
from tests.support.accounts import (
    ADMIN,
    ADMIN_PASSWORD,
    assert_tokens,
    bearer,
    create_users,
    fallback_env,
    login,
    me,
    post_json,
    unique,
)
from tests.support.redis import RedisInstance
from tests.support.servers import LiveServer, service_env

pytestmark = [pytest.mark.mysql, pytest.mark.slow]

METRICS_TOKEN = "two-instances-metrics-token-7d1f"
LOCKOUT_LIMIT = 5


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisInstance]:
    """A Redis of this module's own (the shared one on 6379 holds other runs' counts)."""
    reason = redis_support.unavailable_reason()
    if reason:
        from tests.conftest import skip_or_fail

        skip_or_fail(reason)
    redis = RedisInstance(tmp_path_factory.mktemp("redis")).start()
    try:
        yield redis
    finally:
        redis.stop()


def instance_env(mysql_env: dict[str, str], redis: RedisInstance, **env: str) -> dict[str, str]:
    return {**mysql_env, **fallback_env(), "REDIS_URL": redis.url, "METRICS_TOKEN": METRICS_TOKEN,
            "BCRYPT_ROUNDS": "4", "LOGIN_FAILURES_PER_USER": str(LOCKOUT_LIMIT), "LOGIN_FAILURES_PER_CLIENT": "0",
            **env}


@pytest.fixture(scope="module")
def pair(mysql_database: str, shared_redis: RedisInstance,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two instances with the same settings, shared by the tests that change none."""
    env = service_env(**instance_env(mysql.env_for(mysql_database), shared_redis), WEB_CONCURRENCY="2")
    folder = tmp_path_factory.mktemp("two-instances")
    servers = [LiveServer(env, folder / f"instance-{n}.log") for n in (1, 2)]
    try:
        for server in servers:
            server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def instances(serve, mysql_env: dict[str, str], shared_redis: RedisInstance):
    """start(**env) -> (a, b): two instances of a test's own, with `env` on both."""

    def start(**env: str) -> tuple[LiveServer, LiveServer]:
        common = instance_env(mysql_env, shared_redis, **env)
        return serve(workers=2, **common), serve(workers=2, **common)

    return start


@pytest.fixture
def user(mysql_env: dict[str, str]) -> dict[str, str]:
    person = {"username": unique("two"), "password": "two-instances-" + unique("pw")}
    create_users(mysql_env, person)
    return person


def refresh(server: LiveServer, token: str):
    return post_json(server, "/api/auth/refresh", {"refresh_token": token})


def logout(server: LiveServer, tokens: dict[str, str]):
    return post_json(server, "/api/auth/logout", {"refresh_token": tokens["refresh_token"]},
                     headers=bearer(tokens["access_token"]))


def test_a_token_from_one_instance_works_on_the_other(pair, user: dict[str, str]) -> None:
    """Tokens are signed with a key both instances derive from the same settings and
    checked against the shared database, not against one process's memory."""
    a, b = pair
    tokens = assert_tokens(login(a, user["username"], user["password"]))
    reply = me(b, tokens["access_token"])
    assert reply.status == HTTPStatus.OK and reply.json()["username"] == user["username"]
    renewed = refresh(b, tokens["refresh_token"])
    assert renewed.status == HTTPStatus.OK
    assert me(a, renewed.json()["access_token"]).json()["auth_source"] == "database"

    admin = assert_tokens(login(b, ADMIN, ADMIN_PASSWORD))
    reply = me(a, admin["access_token"])
    assert reply.status == HTTPStatus.OK and reply.json()["auth_source"] == "fallback"


@pytest.mark.parametrize("who", ["database", "fallback"])
def test_logout_on_one_instance_revokes_everywhere(pair, user: dict[str, str], who: str) -> None:
    a, b = pair
    username, password = (user["username"], user["password"]) if who == "database" else (ADMIN, ADMIN_PASSWORD)
    tokens = assert_tokens(login(a, username, password))
    assert refresh(b, tokens["refresh_token"]).status == HTTPStatus.OK
    assert logout(b, tokens).status == HTTPStatus.OK
    for server in (a, b):
        reply = refresh(server, tokens["refresh_token"])
        assert reply.status == HTTPStatus.UNAUTHORIZED, reply.body
        assert reply.json() == {"detail": "Invalid or expired refresh token"}


@pytest.mark.parametrize("change", ["fallback-off", "new-hash"])
def test_changing_the_fallback_on_both_instances_revokes_its_tokens_everywhere(instances, change: str) -> None:
    """App Service restarts every instance with the new settings: tokens the old
    fallback issued on either instance stop working on both."""
    a, b = instances()
    issued = [assert_tokens(login(server, ADMIN, ADMIN_PASSWORD)) for server in (a, b)]
    for tokens in issued:
        assert me(b, tokens["access_token"]).status == HTTPStatus.OK
    a.stop()
    b.stop()
    if change == "fallback-off":
        a, b = instances(ALLOW_FALLBACK_LOGIN="false")
    else:
        new_hash = bcrypt.hashpw(b"another-admin-password", bcrypt.gensalt(4)).decode()
        a, b = instances(**fallback_env(new_hash))
    for server in (a, b):
        for tokens in issued:
            assert me(server, tokens["access_token"]).status == HTTPStatus.UNAUTHORIZED
            assert refresh(server, tokens["refresh_token"]).status == HTTPStatus.UNAUTHORIZED
        reply = login(server, ADMIN, ADMIN_PASSWORD)
        assert reply.status == HTTPStatus.BAD_REQUEST and reply.json() == {"detail": "Incorrect username or password"}


def test_the_lockout_is_counted_across_instances(pair, user: dict[str, str]) -> None:
    """Failures alternate between the instances (and so between four workers); the
    limit is reached at the same count as on one process, and both refuse after."""
    a, b = pair
    statuses = [login(server, user["username"], "wrong-password").status
                for server in [a, b] * (LOCKOUT_LIMIT // 2) + [a] * (LOCKOUT_LIMIT % 2)]
    assert statuses == [HTTPStatus.BAD_REQUEST] * LOCKOUT_LIMIT
    for server in (b, a):
        reply = login(server, user["username"], user["password"])  # even the right password
        assert reply.status == HTTPStatus.TOO_MANY_REQUESTS, reply.body
        assert int(reply.header("Retry-After")) > 0


def requests_counted(server: LiveServer, view: str) -> float:
    reply = server.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert reply.status == HTTPStatus.OK
    total = 0.0
    for line in reply.body.decode().splitlines():
        match = re.match(r'^infinityai_http_requests_total\{(.*)\} (\S+)$', line)
        if match and f'view="{view}"' in match.group(1):
            total += float(match.group(2))
    return total


def test_metrics_of_each_instance_count_its_own_requests(pair) -> None:
    a, b = pair
    before = {server.port: requests_counted(server, "ready") for server in (a, b)}
    for server, n in ((a, 7), (b, 3)):
        for _ in range(n):
            assert server.get("/ready").status == HTTPStatus.OK
    assert requests_counted(a, "ready") - before[a.port] == 7
    assert requests_counted(b, "ready") - before[b.port] == 3


def test_a_form_login_on_one_and_logout_on_the_other_leave_no_secret_in_either_log(pair,
                                                                                    user: dict[str, str]) -> None:
    a, b = pair
    body = urlencode({"username": user["username"], "password": user["password"]})
    reply = a.post("/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    tokens = assert_tokens(reply)
    assert logout(b, tokens).status == HTTPStatus.OK
    for server in (a, b):
        log = server.log()
        for secret in (user["password"], tokens["access_token"], tokens["refresh_token"], METRICS_TOKEN):
            assert secret not in log
