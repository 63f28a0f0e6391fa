"""A minimal Django project: one JSON view on every path, no apps, no middleware.

What any Django service pays per request before doing anything of its own; the
service's /ready is measured against it.
"""

from __future__ import annotations

import secrets

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import re_path


def ready(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ready", "service": "minimal-django"})


urlpatterns = [re_path(r"", ready)]

settings.configure(
    DEBUG=False,
    SECRET_KEY=secrets.token_urlsafe(50),
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
)
django.setup()
application = get_wsgi_application()
