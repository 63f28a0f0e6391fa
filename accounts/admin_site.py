"""The admin site: titled for InfinityAI, and its login form under the same lockout
as POST /login (it checks the same passwords through the same backends, so without
it the form would be a way around the lockout)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse

from accounts import throttling
from infinityai.client_address import client_address


class InfinityAdminSite(admin.AdminSite):
    site_header = "InfinityAI administration"
    site_title = "InfinityAI admin"
    index_title = "InfinityAI"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method != "POST":
            return super().login(request, extra_context)
        username = request.POST.get("username", "")
        client = client_address(request)
        wait = throttling.retry_after(username, client)
        if wait is not None:
            return HttpResponse(f"Too many failed sign-ins; try again in {wait} seconds.\n", status=429,
                                content_type="text/plain; charset=utf-8", headers={"Retry-After": str(wait)})
        response = super().login(request, extra_context)
        if request.user.is_authenticated:
            throttling.clear_user(username)
        elif response.status_code == 200:  # the form again, with its error
            throttling.record_failure(username, client)
        return response


class InfinityAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.InfinityAdminSite"
