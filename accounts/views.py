"""POST /login, POST /api/auth/refresh, GET /api/auth/me, POST /api/auth/logout."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import LoginSerializer, RefreshSerializer
from accounts.tokens import auth_source
from infinityai.api_views import NO_STORE, MethodBeforeCredentials


class AccountView(MethodBeforeCredentials, APIView):
    """The account routes: 405 for a method the route lacks, before asking who calls."""


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class LoginView(AccountView):
    """Username and password (form, multipart or JSON) for a bearer token pair."""

    authentication_classes = ()
    permission_classes = ()

    def post(self, request: Request) -> Response:
        form = LoginSerializer(data=request.data)
        if not form.is_valid():
            services.announce("failure")
            raise ValidationError(form.errors)
        outcome = services.login(request._request, **form.validated_data)
        headers = dict(NO_STORE)
        if outcome.retry_after is not None:
            headers["Retry-After"] = str(outcome.retry_after)
        return Response(outcome.body, status=outcome.status, headers=headers)


class RefreshView(AccountView):
    authentication_classes = ()
    permission_classes = ()

    def post(self, request: Request) -> Response:
        form = RefreshSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            body = services.refresh(form.validated_data["refresh_token"])
        except services.InvalidRefreshToken:
            return Response({"detail": "Invalid or expired refresh token"}, status=HTTPStatus.UNAUTHORIZED,
                            headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})
        return Response(body, headers=NO_STORE)


class MeView(AccountView):
    permission_classes = (IsAuthenticated,)

    def get(self, request: Request) -> Response:
        user: Any = request.user
        return Response({"username": user.username, "email": user.email or "", "is_staff": bool(user.is_staff),
                         "auth_source": auth_source(user)}, headers=NO_STORE)


class LogoutView(AccountView):
    permission_classes = (IsAuthenticated,)

    def post(self, request: Request) -> Response:
        form = RefreshSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            services.logout(request.user, form.validated_data["refresh_token"])
        except services.InvalidRefreshToken:
            raise ValidationError({"refresh_token": ["Invalid, expired or not yours."]}) from None
        return Response({"detail": "Signed out."})
