"""Correctly signed tokens with contents the service never issues: 401, one plain shape.

Anyone who learns the signing key can already do worse; these cases matter because
a 500 with a traceback in the log is the answer a fuzzer or a bug in another
issuer would get, and because every token failure must look the same to a client
(no telling a deleted user from an expired token).
"""

from __future__ import annotations

import time
import uuid
from http import HTTPStatus
from typing import Any

import jwt
import pytest

from infinityai.config import SERVICE_NAME
from tests.support.accounts import bearer

SIGNING_KEY = "odd-token-test-signing-key-0123456789abcdef"
PLAIN = {"detail": "Invalid or expired token"}


def signed(kind: str = "access", **claims: Any) -> str:
    now = int(time.time())
    payload = {"token_type": kind, "exp": now + 600, "iat": now, "jti": uuid.uuid4().hex, "iss": SERVICE_NAME,
               "user_id": "1", **claims}
    return jwt.encode(payload, SIGNING_KEY, algorithm="HS256")


@pytest.fixture(scope="module")
def server(module_serve):
    return module_serve(TOKEN_SIGNING_KEY=SIGNING_KEY)


ODD_CLAIMS = [
    pytest.param({"user_id": "abc"}, id="user_id-text"),
    pytest.param({"user_id": [1]}, id="user_id-list"),
    pytest.param({"user_id": {"a": 1}}, id="user_id-object"),
    pytest.param({"exp": 1e30}, id="exp-1e30"),
    pytest.param({"user_id": "987654321"}, id="no-such-user"),
]


@pytest.mark.parametrize("claims", ODD_CLAIMS)
def test_an_odd_access_token_is_401_plain(server, claims: dict) -> None:
    reply = server.get("/api/auth/me", headers=bearer(signed(**claims)))
    assert reply.status == HTTPStatus.UNAUTHORIZED, reply.body[:300]
    assert reply.json() == PLAIN
    assert reply.header("WWW-Authenticate").startswith("Bearer")


@pytest.mark.parametrize("claims", ODD_CLAIMS)
def test_an_odd_refresh_token_is_401_json(server, claims: dict) -> None:
    reply = server.post("/api/auth/refresh", body=f'{{"refresh_token": "{signed("refresh", **claims)}"}}',
                        headers={"Content-Type": "application/json"})
    assert reply.status == HTTPStatus.UNAUTHORIZED, reply.body[:300]
    assert reply.header("WWW-Authenticate").startswith("Bearer")
    assert set(reply.json()) == {"detail"}


def test_no_traceback_in_the_log(server) -> None:
    for claims in ({"exp": 1e30}, {"user_id": [1]}):
        server.get("/api/auth/me", headers=bearer(signed(**claims)))
    assert "Traceback" not in server.log()
