"""Whatever the bytes, /login answers a 4xx JSON, never a 500; MariaDB stores 4-byte characters."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from tests.support import mysql
from tests.support.accounts import (
    ADMIN,
    ADMIN_PASSWORD,
    INCORRECT,
    assert_tokens,
    create_users,
    fallback_env,
    login,
    me,
    post_large,
    unique,
)

CASES = [
    ("NUL in user name", b'{"username": "ad\\u0000min", "password": "x"}', "application/json"),
    ("NUL in password", b'{"username": "admin", "password": "p\\u0000w"}', "application/json"),
    ("NUL in form", b"username=a%00b&password=x", "application/x-www-form-urlencoded"),
    ("100 KB JSON", b'{"username": "admin", "password": "' + b"x" * (100 * 1024) + b'"}', "application/json"),
    ("empty body", b"", "application/json"),
    ("empty form", b"", "application/x-www-form-urlencoded"),
    ("wrong content type", b"username=admin&password=x", "text/plain"),
    ("XML", b"<login><username>admin</username></login>", "application/xml"),
    ("broken JSON", b'{"username": "admin", "pass', "application/json"),
    ("JSON list", b'["admin", "x"]', "application/json"),
    ("JSON numbers", b'{"username": 1, "password": 2}', "application/json"),
    ("JSON objects", b'{"username": {"a": 1}, "password": ["x"]}', "application/json"),
    ("not UTF-8", b'{"username": "\xff\xfe", "password": "x"}', "application/json"),
    ("not UTF-8 form", b"username=%ff%fe&password=x", "application/x-www-form-urlencoded"),
    ("broken multipart", b"--xyz\r\nContent-Disposition: form-data; name=", "multipart/form-data; boundary=xyz"),
    ("multipart no boundary", b"whatever", "multipart/form-data"),
    ("long user name", b'{"username": "' + b"a" * 5000 + b'", "password": "x"}', "application/json"),
    ("73-byte password", b'{"username": "admin", "password": "' + b"p" * 73 + b'"}', "application/json"),
    ("37 x e-acute (74 bytes)", ('{"username": "admin", "password": "' + "\u00e9" * 37 + '"}').encode(),
     "application/json"),
    ("lone surrogate", b'{"username": "\\ud800", "password": "\\udfff"}', "application/json"),
]


@pytest.fixture
def hostile_server(start):
    return start(**fallback_env())


def test_hostile_bodies_get_a_4xx_json(hostile_server) -> None:
    """One server for every case (starting one per case would cost a second each)."""
    wrong = []
    for name, body, content_type in CASES:
        reply = hostile_server.post("/login", body=body, headers={"Content-Type": content_type})
        try:
            assert 400 <= reply.status < 500
            assert reply.header("Content-Type") == "application/json"
            assert isinstance(reply.json(), dict)
        except (AssertionError, ValueError):
            wrong.append((name, reply.status, reply.body[:200]))
    assert not wrong
    assert "Traceback" not in hostile_server.log()


def test_deeply_nested_json_is_a_400_on_every_json_route(hostile_server) -> None:
    """Python's json recursion limit is not the client's problem to hit: a 400 JSON, never a 500."""
    nested = b"[" * 1000 + b"]" * 1000
    access = assert_tokens(login(hostile_server, ADMIN, ADMIN_PASSWORD, "json"))["access_token"]
    for path in ("/login", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout"):
        reply = hostile_server.post(path, body=nested, headers={"Content-Type": "application/json",
                                                                "Authorization": f"Bearer {access}"})
        assert reply.status == HTTPStatus.BAD_REQUEST, (path, reply.status, reply.body[:200])
        assert reply.header("Content-Type") == "application/json"
        assert reply.json() == {"detail": "JSON parse error - nested too deeply"}
    assert "Traceback" not in hostile_server.log()


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json"])
def test_a_3_mb_body_gets_413_json(hostile_server, content_type) -> None:
    reply = post_large(hostile_server, "/login", b"username=admin&password=" + b"x" * (3 * 1024 * 1024), content_type)
    assert reply.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert reply.header("Content-Type") == "application/json" and "detail" in reply.json()


def test_long_passwords_are_a_failed_login_not_a_500(hostile_server) -> None:
    for password in ("p" * 73, "\u00e9" * 37, "\U0001f600" * 20):
        reply = login(hostile_server, ADMIN, password, "json")
        assert reply.status == HTTPStatus.BAD_REQUEST and reply.json() == INCORRECT


def test_emoji_user_names_sign_in(start, accounts_env) -> None:
    """4-byte characters survive the round trip through the database (utf8mb4 on MariaDB)."""
    name = unique("\U0001f680\u00e9\u4e2d")
    create_users(accounts_env, {"username": name, "password": "p\U0001f511ss"})
    server = start()
    for kind in ("json", "form", "multipart"):
        tokens = assert_tokens(login(server, name, "p\U0001f511ss", kind))
        assert me(server, tokens["access_token"]).json()["username"] == name
    assert login(server, "\U0001f680" + name, "p\U0001f511ss").json() == INCORRECT


def test_emoji_fallback_admin_name(start) -> None:
    server = start(**fallback_env(ADMIN_USERNAME="\U0001f6e1admin"))
    from tests.support.accounts import ADMIN_PASSWORD

    tokens = assert_tokens(login(server, "\U0001f6e1admin", ADMIN_PASSWORD, "json"))
    assert me(server, tokens["access_token"]).json()["username"] == "\U0001f6e1admin"


@pytest.mark.mysql
def test_every_table_is_utf8mb4(mysql_database) -> None:
    tables = [row[0] for row in mysql.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (mysql_database,))]
    assert "accounts_user" in tables and "token_blacklist_outstandingtoken" in tables
    for table in tables:
        (_, ddl), = mysql.execute(f"SHOW CREATE TABLE `{mysql_database}`.`{table}`")
        assert "CHARSET=utf8mb4" in ddl, ddl
        assert "CHARSET=utf8mb3" not in ddl and "CHARSET=latin1" not in ddl, ddl
