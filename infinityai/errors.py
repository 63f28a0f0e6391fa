"""One error shape for the whole API: `{"detail": "..."}`, never an HTML page.

Django's own error views (400, 403, 404, 500), DRF's exception handler and the
database-outage mapping all build their bodies here, so the envelope is defined
once.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from rest_framework.response import Response
from rest_framework.views import exception_handler

from infinityai.request_id import current_request_id

# Paths whose errors stay HTML: they are pages for people, not API responses.
HTML_PREFIXES = ("/admin/", "/docs")

DATABASE_RETRY_AFTER = "5"
# What the driver raises when the server is away, refuses or drops the connection.
# Integrity and data errors are bugs or bad input, handled elsewhere, not outages.
DATABASE_OUTAGE = (OperationalError, InterfaceError)


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def json_error(status: int, detail: str | None = None, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": detail or status_phrase(status)}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def database_unavailable() -> JsonResponse:
    """A request that needed the database while it was away: retryable, not a bug."""
    return json_error(HTTPStatus.SERVICE_UNAVAILABLE,
                      "The database is unavailable; try again shortly.",
                      Retry_After=DATABASE_RETRY_AFTER)


def wants_html(request: HttpRequest) -> bool:
    return request.path.startswith(HTML_PREFIXES)


def _bad_request_detail(exception: Exception | None) -> str | None:
    """What the client did wrong, for the request refusals Django raises itself; never
    the value it sent (Django's own messages quote it)."""
    from django.conf import settings
    from django.core.exceptions import DisallowedHost, TooManyFieldsSent, TooManyFilesSent

    if isinstance(exception, DisallowedHost):
        return "Bad Request: the Host header names a host this service does not answer to."
    if isinstance(exception, TooManyFieldsSent):
        return f"Bad Request: more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields."
    if isinstance(exception, TooManyFilesSent):
        return f"Bad Request: more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files."
    return None


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(HTTPStatus.BAD_REQUEST, _bad_request_detail(exception))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(HTTPStatus.FORBIDDEN)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(HTTPStatus.NOT_FOUND)


def server_error_body() -> dict[str, str]:
    """A 500's body: the request id to quote (also in X-Request-ID), nothing of the cause,
    which is in the log line carrying the same id."""
    body = {"detail": "Internal server error."}
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    return body


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(server_error_body(), status=HTTPStatus.INTERNAL_SERVER_ERROR)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a database outage is a 503 with Retry-After, not a 500."""
    if isinstance(exc, DATABASE_OUTAGE):
        return Response({"detail": "The database is unavailable; try again shortly."},
                        status=HTTPStatus.SERVICE_UNAVAILABLE,
                        headers={"Retry-After": DATABASE_RETRY_AFTER})
    return exception_handler(exc, context)
