"""The sign-in routes as the OpenAPI schema describes them (drf-spectacular view
extensions, in the style of infinityai/openapi.py, which imports this module)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.serializers import LoginSerializer, RefreshSerializer
from infinityai.openapi import error_responses

TOKENS = inline_serializer("Tokens", {
    "access_token": serializers.CharField(help_text="Send as `Authorization: Bearer <access_token>`."),
    "token_type": serializers.ChoiceField(["bearer"]),
    "expires_in": serializers.IntegerField(help_text="Seconds the access token is valid (ACCESS_TOKEN_MINUTES)."),
    "refresh_token": serializers.CharField(help_text="For POST /api/auth/refresh and /api/auth/logout."),
})
ACCESS = inline_serializer("AccessToken", {
    "access_token": serializers.CharField(),
    "token_type": serializers.ChoiceField(["bearer"]),
    "expires_in": serializers.IntegerField(),
})
ME = inline_serializer("Me", {
    "username": serializers.CharField(),
    "email": serializers.CharField(allow_blank=True),
    "is_staff": serializers.BooleanField(),
    "auth_source": serializers.ChoiceField(["database", "fallback"]),
})
SIGNED_OUT = inline_serializer("SignedOut", {"detail": serializers.CharField()})


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def _documented(target: type, **schema: Any) -> type:
    method = "get" if "get" in schema.pop("methods", ("post",)) else "post"

    class Documented(target):  # type: ignore[misc, valid-type]
        pass

    def handler(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(super(Documented, self), method)(*args, **kwargs)

    setattr(Documented, method, extend_schema(**schema)(handler))
    return Documented


class LoginDocs(OpenApiViewExtension):
    target_class = "accounts.views.LoginView"

    def view_replacement(self) -> type:
        return _documented(
            # No operation_id: it answers at /login and /api/auth/login, listed apart.
            self.target_class, tags=["auth"], summary="Sign in: a bearer token pair",
            description=(
                "`username` and `password` as a form (urlencoded or multipart) or as JSON. A database user "
                "first; the fallback admin (ALLOW_FALLBACK_LOGIN) only for a name the database does not hold "
                "or while it cannot be reached. Every credential failure answers the same 400."),
            request=LoginSerializer, auth=[],
            responses={
                200: TOKENS,
                400: OpenApiResponse(description="`{\"detail\": \"Incorrect username or password\"}`, "
                                                  "or field errors."),
                **error_responses(413, 415, 429, 503),
            },
            examples=[OpenApiExample("form", request_only=True, value={"username": "admin", "password": "..."})],
        )


class RefreshDocs(OpenApiViewExtension):
    target_class = "accounts.views.RefreshView"

    def view_replacement(self) -> type:
        return _documented(
            self.target_class, operation_id="auth_refresh", tags=["auth"], summary="A new access token",
            description="For a refresh token from POST /login that is not expired or revoked (no rotation).",
            request=RefreshSerializer, auth=[],
            responses={200: ACCESS, **error_responses(400, 401, 413, 415, 503)},
        )


class MeDocs(OpenApiViewExtension):
    target_class = "accounts.views.MeView"

    def view_replacement(self) -> type:
        return _documented(
            self.target_class, methods=("get",), operation_id="auth_me", tags=["auth"],
            summary="Who the bearer token belongs to",
            description="`auth_source` is `fallback` for the environment-defined admin (works without the database).",
            responses={200: ME, **error_responses(401, 503)},
        )


class LogoutDocs(OpenApiViewExtension):
    target_class = "accounts.views.LogoutView"

    def view_replacement(self) -> type:
        return _documented(
            self.target_class, operation_id="auth_logout", tags=["auth"], summary="Revoke a refresh token",
            description="The refresh token must belong to the bearer. The access token stays valid until it expires.",
            request=RefreshSerializer,
            responses={200: SIGNED_OUT, **error_responses(400, 401, 413, 415, 503)},
        )
