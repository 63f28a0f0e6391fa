"""`Authorization: Bearer <token>` for every API view (REST_FRAMEWORK's default).

simplejwt's JWTAuthentication, with three changes: the scheme word is matched
without regard to case (RFC 9110 says it is case-insensitive; some clients send
`bearer`), every token failure answers one plain `{"detail": ...}` (simplejwt's
own bodies list the token classes it tried or add a `code` telling a deleted or
inactive user from a bad token; a `user_id` that is no key at all is one too), and a fallback admin's token becomes
a stand-in user checked against the current fallback settings, with no
database query, so it works while the database is down.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError

from accounts import fallback
from accounts.tokens import LoginAccessToken, check_fallback_claims, source_of

INVALID = "Invalid or expired token"


class BearerAuthentication(JWTAuthentication):
    www_authenticate_realm = "api"

    def get_raw_token(self, header: bytes) -> bytes | None:
        parts = header.split()
        if not parts or parts[0].lower() != b"bearer":
            return None  # another scheme (or none): not ours to judge
        if len(parts) != 2:
            raise AuthenticationFailed("Authorization header must be 'Bearer <token>'",
                                       code="bad_authorization_header")
        return parts[1]

    def get_validated_token(self, raw_token: bytes) -> Any:
        try:
            return LoginAccessToken(raw_token)
        except TokenError:
            raise AuthenticationFailed(INVALID, code="token_not_valid") from None

    def get_user(self, validated_token: Any) -> Any:
        if source_of(validated_token) == fallback.SOURCE:
            try:
                check_fallback_claims(validated_token)
            except TokenError:
                raise AuthenticationFailed(INVALID, code="token_not_valid") from None
            return fallback.FallbackUser(validated_token["username"])
        try:
            return super().get_user(validated_token)
        except (AuthenticationFailed, TokenError, ValueError, TypeError):
            # simplejwt's own failures (no such user, inactive, password changed) and a
            # user_id such as "abc" or [1] that the id field cannot even look up.
            raise AuthenticationFailed(INVALID, code="token_not_valid") from None
