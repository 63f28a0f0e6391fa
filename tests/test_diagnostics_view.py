"""GET /api/ops/diagnostics: staff only, the same document as `manage.py diagnose --json`.

Until the project's bearer authentication exists, the view's logic is tested in
process with DRF's force_authenticate; the HTTP tests with real tokens come with it.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import resolve
from rest_framework.test import APIRequestFactory, force_authenticate

from accounts.models import User

pytestmark = pytest.mark.django_db


def call(path: str, user: User | None) -> object:
    request = APIRequestFactory().get(path)
    if user is not None:
        force_authenticate(request, user=user)
    return resolve(path).func(request)


@pytest.mark.parametrize("path", ["/api/ops/diagnostics", "/ops/diagnostics/"])
def test_staff_get_the_report(path: str) -> None:
    response = call(path, User(username="ops", is_staff=True))
    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    body = response.data
    assert set(body) == {"ok", "service", "version", "checks"}
    assert isinstance(body["ok"], bool)
    names = [check["check"] for check in body["checks"]]
    assert names[0] == "configuration" and "database" in names
    for check in body["checks"]:
        assert set(check) == {"check", "status", "summary", "cause", "action", "code", "detail"}
        assert check["status"] in ("ok", "warn", "fail")


@pytest.mark.parametrize("user", [None, User(username="someone", is_staff=False)])
def test_others_are_refused(user: User | None) -> None:
    response = call("/api/ops/diagnostics", user)
    assert response.status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
    assert "checks" not in response.data


def test_other_methods_are_405_before_permissions() -> None:
    request = APIRequestFactory().post("/api/ops/diagnostics", {}, format="json")
    response = resolve("/api/ops/diagnostics").func(request)
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert "GET" in response["Allow"]
