"""GET /, /ready and /health (also under /api/)."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus

from django.conf import settings
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from health.checks import DatabaseState, database_check
from health.diagnostics import diagnose
from infinityai.config import SERVICE_NAME
from infinityai.version import app_version

NO_STORE = {"Cache-Control": "no-store"}


class PublicView(APIView):
    """No authentication, permission or throttle: these answer before anything else."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()


class RootView(PublicView):
    def get(self, request: Request) -> Response:
        return Response({"service": SERVICE_NAME, "docs": "/docs", "health": "/health"})


class ReadyView(PublicView):
    """Liveness: touches no database, cache or network, so a database outage never
    gets a healthy container recycled."""

    def get(self, request: Request) -> Response:
        return Response({"status": "ready", "service": SERVICE_NAME}, headers=NO_STORE)


class HealthView(PublicView):
    """Dependency health. 200 when degraded too (the platform must not recycle
    instances for a database fault); `?strict=1` answers 503 when not healthy."""

    def get(self, request: Request) -> Response:
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
        strict = request.query_params.get("strict", "").lower() in ("1", "true", "yes")
        status = HTTPStatus.SERVICE_UNAVAILABLE if strict and not healthy else HTTPStatus.OK
        return Response(body, status=status, headers=NO_STORE)


class DiagnosticsView(APIView):
    """GET /api/ops/diagnostics: `manage.py diagnose --json` for staff, over HTTP.

    Staff only, through the project's authentication classes (the fallback admin
    included: it is the one account that works while the database is down, which is
    when this page is wanted). 200 whatever the findings; `ok` says whether all is well.
    """

    permission_classes = (IsAdminUser,)
    throttle_classes = ()

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        # 405 for a method the route does not have, before asking who is calling.
        if request.method.lower() not in self.http_method_names or not hasattr(self, request.method.lower()):
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    def get(self, request: Request) -> Response:
        report = diagnose(settings.CONFIG)
        return Response(report.as_dict(), headers=NO_STORE)
