"""The fallback admin: database up, refused, or never answering; revocation; misconfiguration."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import bcrypt
import pytest

from tests.support.accounts import (
    ADMIN,
    ADMIN_HASH,
    ADMIN_PASSWORD,
    INCORRECT,
    assert_tokens,
    create_users,
    fallback_env,
    login,
    me,
    post_json,
    unique,
)
from tests.support.faults import HangingListener, refused_port
from tests.support.proxy import TcpProxy

FALLBACK_ME = {"username": ADMIN, "email": "", "is_staff": True, "auth_source": "fallback"}


def log_lines(server, text: str) -> list[str]:
    """Log lines holding `text`, whatever the log format (console or JSON)."""
    return [line for line in server.log().splitlines() if text in line]


def assert_fallback_works(server) -> dict:
    tokens = assert_tokens(login(server, ADMIN, ADMIN_PASSWORD))
    reply = me(server, tokens["access_token"])
    assert reply.status == HTTPStatus.OK, reply.body
    assert reply.json() == FALLBACK_ME
    refreshed = post_json(server, "/api/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refreshed.status == HTTPStatus.OK, refreshed.body
    assert me(server, refreshed.json()["access_token"]).json() == FALLBACK_ME
    return tokens


def test_fallback_admin_with_the_database_up(start) -> None:
    server = start(**fallback_env())
    assert_fallback_works(server)
    assert login(server, ADMIN, "wrong").json() == INCORRECT
    log = server.log()
    assert ADMIN_PASSWORD not in log and ADMIN_HASH not in log
    warnings = log_lines(server, "fallback admin sign-in")
    assert len(warnings) == 2 and all("WARNING" in line for line in warnings)
    assert "succeeded" in warnings[0] and "failed" in warnings[1]
    assert all("client=127.0.0.1" in line and "'admin'" in line for line in warnings)


def test_a_database_user_of_the_same_name_wins(start, accounts_env) -> None:
    """The fallback is only for a name the database does not hold."""
    name = unique("ops")
    create_users(accounts_env, {"username": name, "password": "db-password-1"})
    server = start(**fallback_env(ADMIN_USERNAME=name))
    assert login(server, name, ADMIN_PASSWORD).json() == INCORRECT
    assert me(server, assert_tokens(login(server, name, "db-password-1"))["access_token"]).json()[
        "auth_source"] == "database"


@pytest.mark.parametrize("fault", ["refused", "hanging"])
def test_fallback_admin_while_the_database_is_unreachable(serve, fault) -> None:
    """Sign-in, /me and refresh work with no database; anyone else gets 503 with Retry-After."""
    listener = HangingListener() if fault == "hanging" else None
    port = listener.port if listener else refused_port()
    try:
        server = serve(**fallback_env(), DB_HOST="127.0.0.1", DB_PORT=str(port), DB_SSL_DISABLED="true",
                       DB_CONNECT_TIMEOUT="2", BCRYPT_ROUNDS="4")
        tokens = assert_fallback_works(server)
        for username, password in (("someone", "pw"), (ADMIN, "wrong")):
            reply = login(server, username, password)
            assert reply.status == HTTPStatus.SERVICE_UNAVAILABLE, reply.body
            # The outage is remembered for a few seconds: no second wait for DB_CONNECT_TIMEOUT.
            assert reply.elapsed < 1.5, reply.elapsed
            assert reply.header("Retry-After") and "detail" in reply.json()
            assert "Incorrect" not in reply.json()["detail"]
        out = post_json(server, "/api/auth/logout", {"refresh_token": tokens["refresh_token"]},
                        {"Authorization": f"Bearer {tokens['access_token']}"})
        assert out.status == HTTPStatus.OK, out.body
        assert post_json(server, "/api/auth/refresh",
                         {"refresh_token": tokens["refresh_token"]}).status == HTTPStatus.UNAUTHORIZED
    finally:
        if listener:
            listener.close()


def test_a_logout_while_the_database_is_down_holds_in_every_worker(serve) -> None:
    """No database and no Redis: the revocation can only be kept by the instance. Both
    workers share it, so the revoked refresh token is refused whichever one is asked."""
    server = serve(workers=2, **fallback_env(), DB_HOST="127.0.0.1", DB_PORT=str(refused_port()),
                   DB_SSL_DISABLED="true", BCRYPT_ROUNDS="4")
    tokens = assert_tokens(login(server, ADMIN, ADMIN_PASSWORD))
    out = post_json(server, "/api/auth/logout", {"refresh_token": tokens["refresh_token"]},
                    {"Authorization": f"Bearer {tokens['access_token']}"})
    assert out.status == HTTPStatus.OK, out.body
    # Many at once, each on a new connection: one worker alone cannot take them all.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post_json(server, "/api/auth/refresh",
                                                    {"refresh_token": tokens["refresh_token"]}).status, range(32)))
    assert answers == [HTTPStatus.UNAUTHORIZED] * 32, answers


def test_a_logout_while_the_database_is_down_holds_in_processes_sharing_the_folder(serve, tmp_path) -> None:
    """The same, made deterministic: two processes given one INSTANCE_CACHE_DIR; the
    logout on one, the refresh on the other."""
    env = {**fallback_env(), "DB_HOST": "127.0.0.1", "DB_PORT": str(refused_port()), "DB_SSL_DISABLED": "true",
           "BCRYPT_ROUNDS": "4", "INSTANCE_CACHE_DIR": str(tmp_path / "instance-cache")}
    first, second = serve(**env), serve(**env)
    tokens = assert_tokens(login(first, ADMIN, ADMIN_PASSWORD))
    out = post_json(first, "/api/auth/logout", {"refresh_token": tokens["refresh_token"]},
                    {"Authorization": f"Bearer {tokens['access_token']}"})
    assert out.status == HTTPStatus.OK, out.body
    refused = post_json(second, "/api/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refused.status == HTTPStatus.UNAUTHORIZED, refused.body


@pytest.mark.mysql
def test_once_health_has_seen_the_hang_sign_ins_do_not_wait_for_the_driver(serve, mysql_env) -> None:
    """The database hangs with connections already open (a freeze mid-session). Once the
    /health check has overrun its deadline, the fallback admin signs in at bcrypt speed
    and anyone else gets a 503 at once; before, each sign-in waited DB_READ_TIMEOUT and
    then DB_CONNECT_TIMEOUT (6 s here; 20 s with the defaults)."""
    with TcpProxy(int(mysql_env["DB_PORT"])) as proxy:
        server = serve(**fallback_env(), **{**mysql_env, "DB_PORT": str(proxy.port)}, BCRYPT_ROUNDS="4",
                       DB_READ_TIMEOUT="3", DB_CONNECT_TIMEOUT="3", HEALTH_DB_TIMEOUT="1")
        assert login(server, "someone", "pw").json() == INCORRECT  # the request threads' connections open
        assert server.get("/health").json()["database"] == "connected"
        proxy.hang()
        time.sleep(0.2)  # past the reuse window of that result
        assert server.get("/health").json()["database"] == "timeout"  # the check is now overrunning
        admin = login(server, ADMIN, ADMIN_PASSWORD)
        other = login(server, "someone", "pw")
    assert_tokens(admin)
    assert admin.elapsed < 1.5, admin.elapsed
    assert other.status == HTTPStatus.SERVICE_UNAVAILABLE and other.elapsed < 1.5, (other.status, other.elapsed)


def test_turning_the_fallback_off_or_changing_the_hash_revokes_its_tokens(serve, sqlite_env) -> None:
    first = serve(**sqlite_env, **fallback_env(), BCRYPT_ROUNDS="4")
    tokens = assert_fallback_works(first)
    first.stop()

    rotated = bcrypt.hashpw(b"another-password", bcrypt.gensalt(4)).decode()
    for env in (fallback_env(ALLOW_FALLBACK_LOGIN="false"), fallback_env(rotated)):
        server = serve(**sqlite_env, **env, BCRYPT_ROUNDS="4")
        assert me(server, tokens["access_token"]).status == HTTPStatus.UNAUTHORIZED
        refreshed = post_json(server, "/api/auth/refresh", {"refresh_token": tokens["refresh_token"]})
        assert refreshed.status == HTTPStatus.UNAUTHORIZED
        server.stop()

    same = serve(**sqlite_env, **fallback_env(), BCRYPT_ROUNDS="4")
    assert me(same, tokens["access_token"]).status == HTTPStatus.OK


@pytest.mark.parametrize(("value", "works"), [
    (None, False),  # fallback enabled, no hash
    (ADMIN_HASH[:-5], False),  # truncated
    ("not-a-bcrypt-hash", False),
    ("$1$abc$" + "x" * 22, False),  # md5-crypt, not bcrypt
    (ADMIN_HASH.replace("$04$", "$16$", 1), False),  # cost 16: seconds per attempt (refused unread)
    (f'"{ADMIN_HASH}"', True),  # docker --env-file keeps the quotes
    (f"  '{ADMIN_HASH}'\n", True),
    (ADMIN_HASH.replace("$2b$", "$2y$"), True),
])
def test_misconfigured_fallback_answers_400_and_says_why_at_start(serve, sqlite_env, value, works) -> None:
    env = fallback_env(ADMIN_PASSWORD_HASH=value) if value is not None else fallback_env(ADMIN_PASSWORD_HASH=None)
    server = serve(**sqlite_env, **env, BCRYPT_ROUNDS="4")
    reply = login(server, ADMIN, ADMIN_PASSWORD)
    if works:
        assert_tokens(reply)
        return
    assert reply.status == HTTPStatus.BAD_REQUEST and reply.json() == INCORRECT
    errors = log_lines(server, "ADMIN_PASSWORD_HASH")
    assert errors and all("ERROR" in line for line in errors), server.log()
    if value:
        assert value not in server.log()


def test_fallback_disabled_is_the_same_400(start) -> None:
    server = start(ALLOW_FALLBACK_LOGIN="false", ADMIN_USERNAME=ADMIN, ADMIN_PASSWORD_HASH=ADMIN_HASH)
    assert login(server, ADMIN, ADMIN_PASSWORD).json() == INCORRECT


def test_plaintext_fallback_password_works_only_when_allowed(serve, sqlite_env) -> None:
    server = serve(**sqlite_env, ALLOW_FALLBACK_LOGIN="true", ADMIN_USERNAME=ADMIN, ADMIN_PASSWORD=ADMIN_PASSWORD,
                   ADMIN_ALLOW_PLAINTEXT="true", BCRYPT_ROUNDS="4")
    assert_tokens(login(server, ADMIN, ADMIN_PASSWORD))
    assert ADMIN_PASSWORD not in server.log()
    assert "ADMIN_PASSWORD" in server.log()  # the warning at start
