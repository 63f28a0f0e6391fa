"""What the OpenAPI schema says beyond what drf-spectacular reads from the views.

Descriptions are attached to views by class path through drf-spectacular's
`OpenApiViewExtension` (here for the project's and health's views, in
`accounts/openapi.py` for the sign-in routes), so views stay about behaviour. The
hooks below give each route one documented spelling and give every error response
the one envelope, its example and its headers, so no view can forget them; the
tests in tests/api/test_schema.py fail when a served route is not documented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "required": True, "schema": {"type": "string"}}


RETRY_AFTER = _header("Seconds to wait before trying again.")


@dataclass(frozen=True)
class ErrorDoc:
    description: str
    component: str
    example: dict[str, Any]
    headers: dict[str, Any] = field(default_factory=dict)


ERRORS: dict[str, ErrorDoc] = {
    "400": ErrorDoc("Malformed request: `detail`, or field errors naming each field.", "BadRequest",
                    {"username": ["This field is required."]}),
    "401": ErrorDoc("Missing, malformed, expired or revoked credentials.", "Error",
                    {"detail": "Authentication credentials were not provided."},
                    {"WWW-Authenticate": _header("The scheme to authenticate with: `Bearer`.")}),
    "403": ErrorDoc("Authenticated, but not allowed to do this.", "Error",
                    {"detail": "You do not have permission to perform this action."}),
    "404": ErrorDoc("No such resource.", "Error", {"detail": "Not Found"}),
    "411": ErrorDoc("A body sent without Content-Length (chunked): send it with Content-Length.", "Error",
                    {"detail": "Send the request body with a Content-Length header (chunked bodies are not read)."}),
    "413": ErrorDoc("Request body larger than the limit (2.5 MB).", "Error",
                    {"detail": "Request body too large: the limit is 2621440 bytes."}),
    "415": ErrorDoc("Unsupported Content-Type.", "Error",
                    {"detail": 'Unsupported media type "text/plain" in request.'}),
    "429": ErrorDoc("Too many attempts; wait `Retry-After` seconds.", "Error",
                    {"detail": "Too many failed sign-ins; try again in 900 seconds."}, {"Retry-After": RETRY_AFTER}),
    "500": ErrorDoc("Internal error. The body holds the request id and nothing of the cause.", "ServerError",
                    {"detail": "Internal server error.", "request_id": "5f0c1b7e2a9d4c3e8b1a0f6d7c2e9b4a"}),
    "503": ErrorDoc("The database is unavailable; retry after `Retry-After` seconds.", "Error",
                    {"detail": "The database is unavailable; try again shortly."}, {"Retry-After": RETRY_AFTER}),
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
WITH_BODY = ("400", "411", "413", "415")


def _ref(component: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{component}"}


def error_responses(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """`responses=` entries for an operation's own error statuses, in the envelope's
    schema (so that `examples=` for those statuses attach). `descriptions` override the
    catalogue's, keyed `s400=...`."""
    return {status: OpenApiResponse(_ref(ERRORS[str(status)].component),
                                    description=descriptions.get(f"s{status}", ERRORS[str(status)].description))
            for status in statuses}


# GET /metrics takes METRICS_TOKEN, not a user's token: a scheme of its own, so that a
# client (Swagger UI's Authorize, schemathesis) sends each token only where it belongs.
METRICS_SCHEME = "metricsToken"
SECURITY_SCHEMES = {
    METRICS_SCHEME: {"type": "http", "scheme": "bearer",
                     "description": "The value of METRICS_TOKEN (GET /metrics only)."},
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: every error response gets the envelope's schema, an example
    and its headers (WWW-Authenticate, Retry-After), whoever declared it; the security
    schemes declared here join drf-spectacular's."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(COMPONENTS)
    result["components"].setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            statuses = [*EVERY_OPERATION, *(WITH_BODY if "requestBody" in operation else ())]
            for status in statuses:
                responses.setdefault(status, {})
            for status, response in responses.items():
                doc = ERRORS.get(status)
                if doc is None:
                    continue
                if not response.get("description"):
                    response["description"] = doc.description
                content = response.setdefault("content", {"application/json": {"schema": _ref(doc.component)}})
                media = content.get("application/json")
                if media is None or media.get("schema") != _ref(doc.component):
                    continue  # the operation answers this status with a body of its own (e.g. /health's 503)
                if "examples" not in media:
                    media["example"] = doc.example
                if doc.headers:
                    response["headers"] = {**doc.headers, **response.get("headers", {})}
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
        "timeout, not_mysql, unknown_host, ca_untrusted, host_mismatch, tls_error, connection_lost, "
        "driver_missing, migrations_pending, "
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
                responses={200: DIAGNOSTICS, **error_responses(
                    401, 403, 503, s503="The database is unavailable while checking a database user's token "
                                        "(the fallback admin's token still works).")},
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
                auth=[{METRICS_SCHEME: []}],
                responses={
                    (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Prometheus text format."),
                    **error_responses(401, 404),
                },
            )
            def get(self, *args: Any, **kwargs: Any) -> Any:
                return super().get(*args, **kwargs)

        return Documented


# Loaded with this module wherever a schema is made (settings name the hooks above, and
# infinityai/schema_views.py imports it), never at start: see infinityai/lazy_views.py.
from accounts import openapi as _sign_in_routes  # noqa: E402,F401  (registers their extensions)
