"""Bearer tokens: simplejwt's signed JWTs, with the two kinds of holder this service has.

A database user's tokens name the user's id, are registered in simplejwt's
outstanding-token table and are checked against the user row (active, password
unchanged). The fallback admin's tokens name no row: they carry the user name
and the fingerprint of the fallback settings (accounts.fallback), which is all
it takes to verify them while the database is down.

Revocation (logout) is written to simplejwt's blacklist table and also to the
cache (shared through Redis when configured). The cache copy is what lets a
revoked fallback refresh token stay revoked while the database is down; the
table is what makes a revocation survive a cache flush.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts import cache, fallback, outage

log = logging.getLogger("accounts.tokens")

SOURCE_CLAIM = "src"
FINGERPRINT_CLAIM = "fp"
DATABASE = "database"


def _revoked_key(jti: str) -> str:
    return f"revoked-token:{jti}"


def source_of(token: Any) -> str:
    return token.get(SOURCE_CLAIM) or DATABASE


def check_fallback_claims(token: Any) -> None:
    """A fallback token is valid only while the fallback it came from is configured unchanged."""
    admin = fallback.current()
    if not (admin.owns_fingerprint(token.get(FINGERPRINT_CLAIM)) and admin.claims(token.get("username") or "")):
        raise TokenError("Token is revoked")


class _SaneExpiry:
    """An `exp` that PyJWT accepts but no date can hold (1e30) is an invalid token,
    not the OverflowError simplejwt's check_exp lets through."""

    def check_exp(self, claim: str = "exp", current_time: Any = None) -> None:
        try:
            super().check_exp(claim, current_time)  # type: ignore[misc]
        except (OverflowError, OSError, ValueError, TypeError):
            raise TokenError("Token is invalid") from None


class LoginAccessToken(_SaneExpiry, AccessToken):
    pass


class LoginRefreshToken(_SaneExpiry, RefreshToken):
    access_token_class = LoginAccessToken

    def check_blacklist(self) -> None:
        if cache.get(_revoked_key(self.payload.get("jti", ""))):
            raise TokenError("Token is blacklisted")
        if source_of(self) != fallback.SOURCE:
            super().check_blacklist()
            return
        check_fallback_claims(self)
        if outage.recently_down():
            return  # the cache copy above is all there is while the database is away
        from infinityai.errors import DATABASE_OUTAGE  # not at import: DRF imports this module early

        started = time.monotonic()
        try:
            super().check_blacklist()
        except DATABASE_OUTAGE:
            outage.note(started)

    def revoke(self) -> None:
        remaining = max(1, int(self.payload["exp"] - self.current_time.timestamp()))
        cache.set_value(_revoked_key(self.payload["jti"]), True, remaining)
        from infinityai.errors import DATABASE_OUTAGE

        fallback_token = source_of(self) == fallback.SOURCE
        started = time.monotonic()
        try:
            if fallback_token and outage.recently_down():
                raise DATABASE_OUTAGE[0]("database recently unreachable")
            self.blacklist()
        except DATABASE_OUTAGE:
            outage.note(started)
            if not fallback_token:
                raise
            log.warning("database unavailable: fallback token revoked in the cache only")


def access_lifetime_seconds() -> int:
    return int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())


def issue_tokens(user: Any) -> dict[str, Any]:
    """The /login response body for an authenticated user (a row or the fallback stand-in)."""
    if auth_source(user) == fallback.SOURCE:
        refresh = LoginRefreshToken()
        refresh["username"] = user.username
        refresh[FINGERPRINT_CLAIM] = fallback.current().fingerprint
        refresh[SOURCE_CLAIM] = fallback.SOURCE
    else:
        refresh = LoginRefreshToken.for_user(user)
        refresh[SOURCE_CLAIM] = DATABASE
    return {
        "access_token": str(refresh.access_token),
        "token_type": "bearer",
        "expires_in": access_lifetime_seconds(),
        "refresh_token": str(refresh),
    }


def auth_source(user: Any) -> str:
    if getattr(user, "auth_source", None) == fallback.SOURCE or fallback.is_fallback_row(user):
        return fallback.SOURCE
    return DATABASE
