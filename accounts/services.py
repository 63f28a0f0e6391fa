"""Sign-in, refresh and sign-out, as plain functions the views call.

The views only parse input and shape output; everything a sign-in decides
(throttle, which backend, 400 or 503, which signal) reads top to bottom here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts import fallback, outage, throttling
from accounts.backends import LoginAttempt
from accounts.signals import login_attempted
from accounts.tokens import (
    DATABASE,
    LoginRefreshToken,
    access_lifetime_seconds,
    auth_source,
    issue_tokens,
    source_of,
)
from infinityai.client_address import client_address
from infinityai.errors import DATABASE_OUTAGE

log = logging.getLogger("accounts.login")

INCORRECT = "Incorrect username or password"
UNAVAILABLE = "Sign-in is unavailable while the database cannot be reached; try again shortly."
UNAVAILABLE_RETRY_AFTER = 5


@dataclass(frozen=True)
class LoginOutcome:
    status: int
    body: dict[str, Any]
    retry_after: int | None = None


def announce(outcome: str) -> None:
    login_attempted.send(sender=LoginOutcome, outcome=outcome)


@sensitive_variables("password")
def login(request: HttpRequest, *, username: str, password: str) -> LoginOutcome:
    client = client_address(request)
    wait = throttling.retry_after(username, client)
    if wait is not None:
        announce("throttled")
        return LoginOutcome(HTTPStatus.TOO_MANY_REQUESTS,
                            {"detail": f"Too many failed sign-ins; try again in {wait} seconds."}, wait)

    attempt = LoginAttempt()
    started = time.monotonic()
    try:
        user = authenticate(request, username=username, password=password, attempt=attempt)
        if user is None:
            # During an outage only guesses at the fallback admin's password count:
            # nobody else's password was checked, and a user retrying while the
            # database is away must not find themselves locked out when it returns.
            if not attempt.database_unavailable or fallback.current().claims(username):
                throttling.record_failure(username, client)
            if attempt.database_unavailable:
                announce("unavailable")
                return LoginOutcome(HTTPStatus.SERVICE_UNAVAILABLE, {"detail": UNAVAILABLE},
                                    UNAVAILABLE_RETRY_AFTER)
            announce("failure")
            return LoginOutcome(HTTPStatus.BAD_REQUEST, {"detail": INCORRECT})
        started = time.monotonic()  # time the token writes only, not the bcrypt check
        body = issue_tokens(user)
    except DATABASE_OUTAGE:
        outage.note(started)
        announce("unavailable")
        return LoginOutcome(HTTPStatus.SERVICE_UNAVAILABLE, {"detail": UNAVAILABLE}, UNAVAILABLE_RETRY_AFTER)
    throttling.clear_user(username)
    announce("fallback" if auth_source(user) == fallback.SOURCE else "success")
    return LoginOutcome(HTTPStatus.OK, body)


class InvalidRefreshToken(Exception):
    """The refresh token is malformed, expired, revoked or its holder is gone."""


def _check_holder(token: LoginRefreshToken) -> None:
    """A database user's refresh token is good only while the user is active and
    their password unchanged (a password change ends every session)."""
    if source_of(token) != DATABASE:
        return
    user_model = get_user_model()
    try:
        user = user_model._default_manager.get(pk=token.get(jwt_settings.USER_ID_CLAIM))
    except (user_model.DoesNotExist, ValueError, TypeError):
        raise InvalidRefreshToken from None
    if not user.is_active or token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise InvalidRefreshToken


def refresh(raw: str) -> dict[str, Any]:
    """A new access token for a valid refresh token (no rotation: the refresh token stays)."""
    try:
        token = LoginRefreshToken(raw)
    except TokenError:
        raise InvalidRefreshToken from None
    _check_holder(token)
    return {"access_token": str(token.access_token), "token_type": "bearer",
            "expires_in": access_lifetime_seconds()}


def logout(user: Any, raw: str) -> None:
    """Revoke a refresh token that belongs to the signed-in user."""
    try:
        token = LoginRefreshToken(raw)
    except TokenError:
        raise InvalidRefreshToken from None
    if auth_source(user) == fallback.SOURCE:
        mine = source_of(token) == fallback.SOURCE and token.get("username") == user.username
    else:
        mine = source_of(token) == DATABASE and token.get(jwt_settings.USER_ID_CLAIM) == str(user.pk)
    if not mine:
        raise InvalidRefreshToken
    token.revoke()
