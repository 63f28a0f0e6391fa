"""What the OpenAPI schema says beyond what drf-spectacular reads from the views.

The descriptions live here, attached to the apps' views by class path through
drf-spectacular's `OpenApiViewExtension`, rather than as decorators in each app:
the published contract is then reviewed in one file, and the apps' views stay
about behaviour. The hooks below give each route one documented spelling and add
the error responses every operation shares, so no view can forget them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers

from infinityai.config import SERVICE_NAME

# --- one documented path per route ---------------------------------------------------
# Every route answers at the root and under /api/, with or without a trailing slash
# (infinityai/urls.py). The schema lists each once, spelled as CONTRACT §1 spells it:
# the frontend's routes under /api/, the probes', login's and metrics' at the root.
API_SPELLED = ("/auth/", "/ops/", "/schema")


def canonical_path(path: str) -> str:
    """The documented spelling of a route path as drf-spectacular found it."""
    bare = path.removeprefix("/api").rstrip("/") or "/"
    if bare.startswith(API_SPELLED):
        return "/api" + bare
    return bare


def one_path_per_route(endpoints: list[tuple]) -> list[tuple]:
    """Preprocessing hook: keep one (path, method) of each route's spellings."""
    kept: dict[tuple[str, str], tuple] = {}
    for path, path_regex, method, callback in endpoints:
        key = (canonical_path(path), method)
        kept.setdefault(key, (key[0], path_regex, method, callback))
    return list(kept.values())


# --- error responses ------------------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "example": {"detail": "Not Found"},
}
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "One entry per invalid field, each a list of messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"username": ["This field is required."]},
}
SERVER_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "request_id": {"type": "string", "description": "Quote it when reporting the error."},
    },
    "required": ["detail"],
    "example": {"detail": "Internal server error.", "request_id": "5f0c1b7e2a9d4c3e"},
}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "required": True, "schema": {"type": "string"}}


RETRY_AFTER = _header("Seconds to wait before trying again.")
ERRORS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # status: (description, schema component, response headers)
    "400": ("Malformed request: `detail`, or field errors naming each field.", "BadRequest", {}),
    "401": ("Missing, malformed, expired or revoked credentials.", "Error",
            {"WWW-Authenticate": _header("The scheme to authenticate with: `Bearer`.")}),
    "403": ("Authenticated, but not allowed to do this.", "Error", {}),
    "404": ("No such resource.", "Error", {}),
    "413": ("Request body larger than the limit (2.5 MB).", "Error", {}),
    "415": ("Unsupported Content-Type.", "Error", {}),
    "429": ("Too many attempts; wait `Retry-After` seconds.", "Error", {"Retry-After": RETRY_AFTER}),
    "500": ("Internal error. The body holds the request id and nothing of the cause.", "ServerError", {}),
    "503": ("The database is unavailable; retry after `Retry-After` seconds.", "Error",
            {"Retry-After": RETRY_AFTER}),
}
COMPONENTS = {
    "Error": ERROR_SCHEMA,
    "FieldErrors": FIELD_ERRORS_SCHEMA,
    "BadRequest": {"oneOf": [{"$ref": "#/components/schemas/Error"},
                             {"$ref": "#/components/schemas/FieldErrors"}]},
    "ServerError": SERVER_ERROR_SCHEMA,
}
# Statuses any operation can answer, and those only an operation with a body can.
EVERY_OPERATION = ("500",)
WITH_BODY = ("400", "413", "415")


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """`responses=` entries for an operation's own error statuses (filled in by the hook)."""
    return {status: OpenApiResponse(description=ERRORS[str(status)][0]) for status in statuses}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: every error response gets the envelope's schema and headers."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(COMPONENTS)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            statuses = [*EVERY_OPERATION, *(WITH_BODY if "requestBody" in operation else ())]
            for status in statuses:
                responses.setdefault(status, {})
            for status, response in responses.items():
                if status not in ERRORS or "content" in response:
                    continue  # not an error, or the operation documents a body of its own
                description, component, headers = ERRORS[status]
                if not response.get("description"):
                    response["description"] = description
                response["content"] = {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}
                }
                if headers:
                    response["headers"] = {**headers, **response.get("headers", {})}
    return result


# --- the foundation's routes --------------------------------------------------------

HEALTH = inline_serializer("Health", {
    "status": serializers.ChoiceField(["healthy", "degraded"]),
    "database": serializers.ChoiceField(["connected", "timeout", "error", "disconnected"]),
    "timestamp": serializers.DateTimeField(help_text="ISO 8601, UTC."),
    "version": serializers.CharField(help_text="APP_VERSION or the git commit."),
    "service": serializers.CharField(),
    "latency_ms": serializers.FloatField(allow_null=True, help_text="Round trip of SELECT 1; null if none."),
})


class RootDocs(OpenApiViewExtension):
    target_class = "health.views.RootView"

    def view_replacement(self) -> type:
        class Documented(self.target_class):
            @extend_schema(
                operation_id="service_root", tags=["service"], summary="What this service is",
                description="The service's name and where its documentation and health are.",
                responses={200: OpenApiResponse(inline_serializer("ServiceRoot", {
                    "service": serializers.CharField(), "docs": serializers.CharField(),
                    "health": serializers.CharField()}), description="The service.")},
                examples=[OpenApiExample("root", response_only=True, value={
                    "service": SERVICE_NAME, "docs": "/docs", "health": "/health"})],
            )
            def get(self, *args: Any, **kwargs: Any) -> Any:
                return super().get(*args, **kwargs)

        return Documented


class ReadyDocs(OpenApiViewExtension):
    target_class = "health.views.ReadyView"

    def view_replacement(self) -> type:
        class Documented(self.target_class):
            @extend_schema(
                operation_id="ready", tags=["service"], summary="Liveness: the process answers",
                description="Touches no database, cache or network. Answers whatever the Host header says.",
                responses={200: OpenApiResponse(inline_serializer("Ready", {
                    "status": serializers.ChoiceField(["ready"]), "service": serializers.CharField()}),
                    description="The process is up.")},
            )
            def get(self, *args: Any, **kwargs: Any) -> Any:
                return super().get(*args, **kwargs)

        return Documented


class HealthDocs(OpenApiViewExtension):
    target_class = "health.views.HealthView"

    def view_replacement(self) -> type:
        class Documented(self.target_class):
            @extend_schema(
                operation_id="health", tags=["service"], summary="Dependency health",
                description=(
                    "Answers within HEALTH_DB_TIMEOUT + 0.25 s whatever the database does. 200 for "
                    "`healthy` and `degraded` alike (an instance is never recycled for a database "
                    "fault); with `strict=1`, 503 when not healthy."),
                parameters=[OpenApiParameter(
                    "strict", OpenApiTypes.STR, examples=[OpenApiExample("strict", value="1")],
                    description="`1`, `true` or `yes`: answer 503 when the database is not connected; "
                                "any other value: not strict.")],
                responses={
                    200: OpenApiResponse(HEALTH, description="Healthy, or degraded (see `database`)."),
                    503: OpenApiResponse(HEALTH, description="Not healthy, and `strict=1` was asked."),
                },
                examples=[OpenApiExample("healthy", response_only=True, status_codes=["200"], value={
                    "status": "healthy", "database": "connected", "timestamp": "2026-12-03T17:00:00Z",
                    "version": "49d8371", "service": SERVICE_NAME, "latency_ms": 1.2})],
            )
            def get(self, *args: Any, **kwargs: Any) -> Any:
                return super().get(*args, **kwargs)

        return Documented


# --- operations (issue 4): diagnostics and metrics ----------------------------------

DIAGNOSTIC_CHECK = inline_serializer("DiagnosticCheck", {
    "check": serializers.CharField(help_text="configuration, fallback admin, metrics, database, migrations"),
    "status": serializers.ChoiceField(["ok", "warn", "fail"]),
    "summary": serializers.CharField(help_text="What was found, in plain words."),
    "cause": serializers.CharField(allow_null=True, help_text=(
        "A stable key for a failure: access_denied, tls_required, database_missing, no_privilege, refused, "
        "timeout, unknown_host, ca_untrusted, host_mismatch, tls_error, connection_lost, migrations_pending, "
        "invalid_setting, user_format, fallback_misconfigured, unknown.")),
    "action": serializers.CharField(allow_null=True, help_text="What to do, in the runbook's words."),
    "code": serializers.IntegerField(allow_null=True, help_text="The MySQL client's error code."),
    "detail": serializers.CharField(allow_null=True, help_text="The driver's message, secrets removed."),
})
DIAGNOSTICS = inline_serializer("Diagnostics", {
    "ok": serializers.BooleanField(help_text="False when any check failed (warnings allowed)."),
    "service": serializers.CharField(),
    "version": serializers.CharField(allow_null=True),
    "checks": DIAGNOSTIC_CHECK.__class__(many=True),
})


class DiagnosticsDocs(OpenApiViewExtension):
    target_class = "health.views.DiagnosticsView"

    def view_replacement(self) -> type:
        class Documented(self.target_class):
            @extend_schema(
                operation_id="ops_diagnostics", tags=["operations"], summary="What is wrong and what to do",
                description=(
                    "The same document as `python manage.py diagnose --json`: the configuration and the "
                    "database checked, each failure with its cause and the runbook's action. Staff only "
                    "(the fallback admin included: it works while the database is down). 200 whatever "
                    "the findings; `ok` says whether all is well."),
                responses={200: DIAGNOSTICS, **error_responses(401, 403)},
            )
            def get(self, *args: Any, **kwargs: Any) -> Any:
                return super().get(*args, **kwargs)

        return Documented


class MetricsDocs(OpenApiViewExtension):
    target_class = "infinityai.metrics.MetricsView"

    def view_replacement(self) -> type:
        class Documented(self.target_class):
            @extend_schema(
                operation_id="metrics", tags=["operations"], summary="Prometheus metrics",
                description=(
                    "The Prometheus text format, counted across every gunicorn worker. Needs "
                    "`Authorization: Bearer $METRICS_TOKEN`; 404 when METRICS_TOKEN is unset."),
                auth=[],
                responses={
                    (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Prometheus text format."),
                    **error_responses(401, 404),
                },
            )
            def get(self, *args: Any, **kwargs: Any) -> Any:
                return super().get(*args, **kwargs)

        return Documented
