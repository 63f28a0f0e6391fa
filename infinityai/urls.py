"""Routes. Every API route answers at the root and under /api/, with or without a
trailing slash (no redirect, so a POST keeps its body)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.http.response import HttpResponseBase
from django.urls import URLPattern, include, path, re_path

from accounts.views import LoginView, LogoutView, MeView, RefreshView
from health.views import DiagnosticsView, HealthView, ReadyView, RootView
from infinityai import errors
from infinityai.lazy_views import LazyView
from infinityai.metrics import MetricsView


def route(pattern: str, view: Callable[..., HttpResponseBase], name: str) -> URLPattern:
    """`pattern` with an optional trailing slash."""
    return re_path(rf"^{pattern}/?$" if pattern else r"^$", view, name=name)


# /ready and /health are normally answered by ProbeMiddleware before routing;
# they are listed here too so that reverse() and the API schema know them.
api_patterns = [
    route("", RootView.as_view(), "root"),
    route("ready", ReadyView.as_view(), "ready"),
    route("health", HealthView.as_view(), "health"),
    route("schema", LazyView("infinityai.schema_views.SchemaView"), "schema"),
    route("docs", LazyView("infinityai.schema_views.DocsView"), "docs"),
    route("ops/diagnostics", DiagnosticsView.as_view(), "ops-diagnostics"),
    route("metrics", MetricsView.as_view(), "metrics"),
    route("login", LoginView.as_view(), "login"),
    route("auth/login", LoginView.as_view(), "auth-login"),
    route("auth/refresh", RefreshView.as_view(), "auth-refresh"),
    route("auth/me", MeView.as_view(), "auth-me"),
    route("auth/logout", LogoutView.as_view(), "auth-logout"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("", include(api_patterns)),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.not_found
handler500 = errors.server_error
