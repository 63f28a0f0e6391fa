"""Authentication backends: database users first, then the fallback admin.

Both keep Django's contract (return a user or None; `get_user` for sessions), so
`/login`, the admin site and anything else calling `authenticate()` share them.

One bcrypt computation per attempt, whatever the user name, so that timing does
not tell which names exist: a known database user costs the check of their hash;
an unknown name costs Django's dummy hash in DatabaseBackend, except when it is
the fallback admin's name, whose check in FallbackAdminBackend takes its place;
the fallback admin's row (which has no usable password) is skipped here for the
same reason.

`attempt` (a LoginAttempt, passed by the /login service) is how a backend says
"the database could not be reached" without raising, so that the fallback admin
still gets its turn and the caller can answer 503 when nobody signed in. Without
it (the admin site) a database outage propagates and becomes the JSON 503 of
infinityai/middleware.py (JsonErrorMiddleware), with Retry-After.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.db import transaction
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from accounts import fallback, outage
from infinityai.client_address import client_address
from infinityai.errors import DATABASE_OUTAGE

log = logging.getLogger("accounts.fallback")

@dataclass
class LoginAttempt:
    """What the backends learnt during one sign-in attempt."""

    database_unavailable: bool = False


class DatabaseBackend(ModelBackend):
    @sensitive_variables("password")
    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, attempt: LoginAttempt | None = None,
                     **kwargs: Any) -> Any:
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        if attempt is not None and outage.recently_down():
            attempt.database_unavailable = True
            return None
        started = time.monotonic()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            if not fallback.current().claims(username):
                user_model().set_password(password)  # equal work for unknown names
            return None
        except DATABASE_OUTAGE:
            if attempt is None:
                raise
            outage.note(started)
            attempt.database_unavailable = True
            return None
        if fallback.is_fallback_row(user):
            return None  # FallbackAdminBackend checks (and times) this one
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class FallbackAdminBackend(BaseBackend):
    @sensitive_variables("password")
    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, attempt: LoginAttempt | None = None,
                     **kwargs: Any) -> Any:
        admin = fallback.current()
        if username is None or password is None or not admin.claims(username):
            return None
        database_down = attempt is not None and attempt.database_unavailable
        row = None
        if not database_down:
            started = time.monotonic()
            try:
                row = get_user_model()._default_manager.filter(username=username).first()
            except DATABASE_OUTAGE:
                if attempt is None:
                    raise
                outage.note(started)
                attempt.database_unavailable = database_down = True
            if row is not None and not fallback.is_fallback_row(row):
                return None  # a real database user of that name wins
        ok = admin.check_password(password) and (row is None or row.is_active)
        client = client_address(request) if request is not None else "unknown"
        log.warning("fallback admin sign-in %s: user=%r client=%s database=%s",
                    "succeeded" if ok else "failed", username, client,
                    "unavailable" if database_down else "available")
        if not ok:
            return None
        if database_down:
            if attempt is None:
                return None
            return fallback.FallbackUser(username)
        started = time.monotonic()
        try:
            return self._row(admin)
        except DATABASE_OUTAGE:
            if attempt is None:
                raise
            outage.note(started)
            attempt.database_unavailable = True
            return fallback.FallbackUser(username)

    @staticmethod
    def _row(admin: fallback.FallbackAdmin) -> Any:
        """The admin-site user row of the fallback admin, made on first sign-in."""
        user_model = get_user_model()
        with transaction.atomic():
            user, created = user_model._default_manager.get_or_create(
                username=admin.username,
                defaults={"password": admin.row_marker, "is_staff": True, "is_superuser": True},
            )
            if not created and (user.password != admin.row_marker or not (user.is_staff and user.is_superuser)):
                user.password = admin.row_marker
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["password", "is_staff", "is_superuser"])
        return user

    def get_user(self, user_id: Any) -> Any:
        """The session's user, only while the fallback settings that signed it in are unchanged."""
        admin = fallback.current()
        if not admin.enabled:
            return None
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        if user.password != admin.row_marker or not user.is_active or not admin.claims(user.username):
            return None
        return user
