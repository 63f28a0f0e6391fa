"""POST /login, bearer tokens, refresh and logout, against real servers on SQLite and MariaDB."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from tests.support.accounts import (
    INCORRECT,
    assert_tokens,
    create_users,
    login,
    me,
    post_json,
    unique,
)


@pytest.fixture
def alice(accounts_env) -> tuple[str, str]:
    name, password = unique("alice"), "correct horse battery staple"
    create_users(accounts_env, {"username": name, "password": password, "email": "alice@example.com"})
    return name, password


def test_database_user_signs_in_by_form_multipart_and_json(start, alice) -> None:
    """Every body the frontend or a script sends gives a token pair; the access token works on /me."""
    server = start()
    name, password = alice
    for kind, path in (("form", "/login"), ("multipart", "/api/login/"), ("json", "/api/auth/login")):
        tokens = assert_tokens(login(server, name, password, kind, path))
        for scheme in ("Bearer", "bearer", "BEARER"):
            reply = me(server, tokens["access_token"], scheme)
            assert reply.status == HTTPStatus.OK, reply.body
            assert reply.json() == {"username": name, "email": "alice@example.com", "is_staff": False,
                                    "auth_source": "database"}


def test_wrong_password_and_unknown_user_look_the_same(start, alice) -> None:
    server = start()
    name, _ = alice
    for username, password in ((name, "wrong"), (unique("nobody"), "whatever"), ("", "x")):
        reply = login(server, username or " ", password)
        assert reply.status == HTTPStatus.BAD_REQUEST
        if username:
            assert reply.json() == INCORRECT
    assert "wrong" not in server.log() and "whatever" not in server.log()


def test_refresh_gives_a_working_access_token_and_logout_revokes_the_refresh_token(start, alice) -> None:
    server = start()
    tokens = assert_tokens(login(server, *alice))
    refreshed = post_json(server, "/api/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refreshed.status == HTTPStatus.OK, refreshed.body
    assert set(refreshed.json()) == {"access_token", "token_type", "expires_in"}
    assert me(server, refreshed.json()["access_token"]).status == HTTPStatus.OK
    assert post_json(server, "/auth/refresh/", {"refresh_token": tokens["refresh_token"]}).status == HTTPStatus.OK

    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    out = post_json(server, "/api/auth/logout", {"refresh_token": tokens["refresh_token"]}, auth)
    assert out.status == HTTPStatus.OK, out.body
    again = post_json(server, "/api/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert again.status == HTTPStatus.UNAUTHORIZED
    assert again.json() == {"detail": "Invalid or expired refresh token"}
    assert again.header("WWW-Authenticate").startswith("Bearer")


def test_logout_refuses_someone_elses_refresh_token(start, accounts_env) -> None:
    bob, carol = unique("bob"), unique("carol")
    create_users(accounts_env, {"username": bob, "password": "pw-bob-1"}, {"username": carol, "password": "pw-carol-1"})
    server = start()
    bob_tokens = assert_tokens(login(server, bob, "pw-bob-1"))
    carol_tokens = assert_tokens(login(server, carol, "pw-carol-1"))
    reply = post_json(server, "/api/auth/logout", {"refresh_token": carol_tokens["refresh_token"]},
                      {"Authorization": f"Bearer {bob_tokens['access_token']}"})
    assert reply.status == HTTPStatus.BAD_REQUEST
    assert "refresh_token" in reply.json()
    refreshed = post_json(server, "/api/auth/refresh", {"refresh_token": carol_tokens["refresh_token"]})
    assert refreshed.status == HTTPStatus.OK


BAD_HEADERS = [None, "", "Bearer", "Bearer a b", "Bearer not-a-jwt", "Basic dXNlcjpwdw==",
               "Bearer eyJhbGciOiJub25lIn0.e30.", "Bearer \u00e9t\u00e9"]


def test_bad_authorization_headers_get_401_json_with_a_bearer_challenge(serve, sqlite_env) -> None:
    server = serve(**sqlite_env)
    for header in BAD_HEADERS:
        reply = server.get("/api/auth/me", headers={} if header is None else {"Authorization": header})
        assert reply.status == HTTPStatus.UNAUTHORIZED, header
        assert reply.header("Content-Type") == "application/json"
        assert set(reply.json()) == {"detail"}
        assert reply.header("WWW-Authenticate").startswith("Bearer")


def test_refresh_token_is_not_an_access_token_and_vice_versa(start, alice) -> None:
    server = start()
    tokens = assert_tokens(login(server, *alice))
    assert me(server, tokens["refresh_token"]).status == HTTPStatus.UNAUTHORIZED
    reply = post_json(server, "/api/auth/refresh", {"refresh_token": tokens["access_token"]})
    assert reply.status == HTTPStatus.UNAUTHORIZED


def test_tokens_are_signed_with_their_own_key(serve, sqlite_env) -> None:
    """A token from a server with another TOKEN_SIGNING_KEY (same SECRET_KEY) is refused."""
    name = unique("dave")
    create_users(sqlite_env, {"username": name, "password": "pw-dave-1"})
    first = serve(**sqlite_env, BCRYPT_ROUNDS="4", TOKEN_SIGNING_KEY="k" * 40)
    token = assert_tokens(login(first, name, "pw-dave-1"))["access_token"]
    assert me(first, token).status == HTTPStatus.OK
    other = serve(**sqlite_env, BCRYPT_ROUNDS="4", TOKEN_SIGNING_KEY="z" * 40)
    assert me(other, token).status == HTTPStatus.UNAUTHORIZED
    derived = serve(**sqlite_env, BCRYPT_ROUNDS="4")
    assert me(derived, token).status == HTTPStatus.UNAUTHORIZED
