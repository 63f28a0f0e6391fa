"""Equal work for every failure: exactly one bcrypt computation per sign-in attempt,
whichever user name is tried (in process, counting calls into the bcrypt library)."""

from __future__ import annotations

from http import HTTPStatus

import bcrypt
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches

from tests.support.accounts import ADMIN, ADMIN_HASH, ADMIN_PASSWORD

# WhiteNoise, in the middleware chain, warns when STATIC_ROOT has not been collected yet.
pytestmark = pytest.mark.usefixtures("collected_static")


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """Every bcrypt hashpw/checkpw call (Django's hasher and the fallback both use them)."""
    calls: list[str] = []
    real_hashpw, real_checkpw = bcrypt.hashpw, bcrypt.checkpw

    def hashpw(password: bytes, salt: bytes) -> bytes:
        calls.append("hashpw")
        return real_hashpw(password, salt)

    def checkpw(password: bytes, hashed: bytes) -> bool:
        calls.append("checkpw")
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "hashpw", hashpw)
    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    return calls


@pytest.fixture
def site(settings, db):
    settings.BCRYPT_ROUNDS = 4
    settings.FALLBACK_LOGIN = {"ENABLED": True, "USERNAME": ADMIN, "PASSWORD_HASH": ADMIN_HASH, "PASSWORD": ""}
    for cache in caches.all():
        cache.clear()
    get_user_model().objects.create_user("known", password="known-password")
    unusable = get_user_model().objects.create_user("nopassword")
    unusable.set_unusable_password()
    unusable.save()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.mark.parametrize(("username", "password", "status", "admin_row"), [
    ("known", "known-password", HTTPStatus.OK, False),
    ("known", "wrong", HTTPStatus.BAD_REQUEST, False),
    ("nopassword", "anything", HTTPStatus.BAD_REQUEST, False),
    ("unknown", "anything", HTTPStatus.BAD_REQUEST, False),
    (ADMIN, ADMIN_PASSWORD, HTTPStatus.OK, False),  # first sign-in: no row yet
    (ADMIN, ADMIN_PASSWORD, HTTPStatus.OK, True),  # later ones: the row exists
    (ADMIN, "wrong", HTTPStatus.BAD_REQUEST, False),
    (ADMIN, "wrong", HTTPStatus.BAD_REQUEST, True),
    (ADMIN, "p" * 73, HTTPStatus.BAD_REQUEST, False),
])
def test_one_hash_per_attempt(client, site, counted, username, password, status, admin_row) -> None:
    if admin_row:
        client.post("/login", {"username": ADMIN, "password": ADMIN_PASSWORD})
        counted.clear()
    reply = client.post("/login", {"username": username, "password": password})
    assert reply.status_code == status
    assert len(counted) == 1, counted


def test_one_hash_when_the_fallback_is_off(client, site, settings, counted) -> None:
    settings.FALLBACK_LOGIN = {"ENABLED": False}
    for username in ("unknown", ADMIN, "known"):
        counted.clear()
        assert client.post("/login", {"username": username, "password": "x"}).status_code == HTTPStatus.BAD_REQUEST
        assert len(counted) == 1, (username, counted)


def test_a_throttled_attempt_costs_no_hash(client, site, settings, counted) -> None:
    settings.LOGIN_THROTTLE = {"FAILURES_PER_USER": 2, "FAILURES_PER_CLIENT": 0, "WINDOW_SECONDS": 60}
    for _ in range(2):
        client.post("/login", {"username": "known", "password": "wrong"})
    counted.clear()
    reply = client.post("/login", {"username": "known", "password": "known-password"})
    assert reply.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert counted == []
