"""GET /, /ready and /health (also under /api/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from health.checks import DatabaseState, database_check
from health.diagnostics import diagnose
from infinityai.api_views import NO_STORE, MethodBeforeCredentials
from infinityai.config import SERVICE_NAME
from infinityai.version import app_version

COMPACT = {"separators": (",", ":")}  # the bytes DRF's JSONRenderer would send

class PublicView(APIView):
    """No authentication, permission or throttle: these answer before anything else."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()


class RootView(PublicView):
    def get(self, request: Request) -> Response:
        return Response({"service": SERVICE_NAME, "docs": "/docs", "health": "/health"})


def ready_payload() -> dict[str, str]:
    return {"status": "ready", "service": SERVICE_NAME}


def health_payload(strict: bool) -> tuple[dict[str, object], HTTPStatus]:
    result = database_check.run(settings.HEALTH_DB_TIMEOUT)
    healthy = result.state is DatabaseState.CONNECTED
    body = {
        "status": "healthy" if healthy else "degraded",
        "database": result.state.value,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "version": app_version(),
        "service": SERVICE_NAME,
        "latency_ms": result.latency_ms,
    }
    status = HTTPStatus.SERVICE_UNAVAILABLE if strict and not healthy else HTTPStatus.OK
    return body, status


def wants_strict(query: QueryDict) -> bool:
    return query.get("strict", "").lower() in ("1", "true", "yes")


# The probe path: GET and HEAD of /ready and /health, answered by ProbeMiddleware
# with plain Django responses. DRF's dispatch (request wrapping, content
# negotiation, rendering) cost more than twice a minimal Django view per request
# (docs/PERFORMANCE.md); a probe has nothing to negotiate. Same bodies and headers
# as the DRF views below, which keep the routes, other methods and the schema.

READY_BODY = json.dumps(ready_payload(), **COMPACT).encode()  # never changes: encoded once


def ready_probe(request: HttpRequest) -> HttpResponse:
    return HttpResponse(READY_BODY, content_type="application/json", headers=NO_STORE)


def health_probe(request: HttpRequest) -> JsonResponse:
    body, status = health_payload(wants_strict(request.GET))
    return JsonResponse(body, status=status, headers=NO_STORE, json_dumps_params=COMPACT)


class ReadyView(PublicView):
    """Liveness: touches no database, cache or network, so a database outage never
    gets a healthy container recycled."""

    def get(self, request: Request) -> Response:
        return Response(ready_payload(), headers=NO_STORE)


class HealthView(PublicView):
    """Dependency health. 200 when degraded too (the platform must not recycle
    instances for a database fault); `?strict=1` answers 503 when not healthy."""

    def get(self, request: Request) -> Response:
        body, status = health_payload(wants_strict(request.query_params))
        return Response(body, status=status, headers=NO_STORE)


class DiagnosticsView(MethodBeforeCredentials, APIView):
    """GET /api/ops/diagnostics: `manage.py diagnose --json` for staff, over HTTP.

    Staff only, through the project's authentication classes (the fallback admin
    included: it is the one account that works while the database is down, which is
    when this page is wanted). 200 whatever the findings; `ok` says whether all is well.
    """

    permission_classes = (IsAdminUser,)
    throttle_classes = ()

    def get(self, request: Request) -> Response:
        report = diagnose(settings.CONFIG)
        return Response(report.as_dict(), headers=NO_STORE)
