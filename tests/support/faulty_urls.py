"""The real routes plus routes that fail on purpose (see faulty_settings.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.views import APIView

from infinityai import urls

# Recognisable text: a test that finds it in a response has found a leak.
LEAK = "sentinel-exception-text-7c1d"


class FailingApiView(APIView):
    authentication_classes = ()
    permission_classes = ()

    def get(self, request: Request) -> HttpResponse:
        raise RuntimeError(LEAK)


def failing_django_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(LEAK)


urlpatterns = [
    path("api/test/fail-drf", FailingApiView.as_view()),
    path("api/test/fail-django", failing_django_view),
    *urls.urlpatterns,
]
handler400 = urls.handler400
handler403 = urls.handler403
handler404 = urls.handler404
handler500 = urls.handler500
