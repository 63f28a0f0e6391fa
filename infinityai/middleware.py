"""Middleware that shapes every response before the rest of the stack sees it."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from http import HTTPStatus

import corsheaders.middleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from infinityai.errors import (
    DATABASE_OUTAGE,
    database_unavailable,
    json_error,
    server_error_body,
    status_phrase,
    wants_html,
)

log = logging.getLogger("infinityai.request")

Handler = Callable[[HttpRequest], HttpResponse]

PROBE_PATH = re.compile(r"^/(?:api/)?(ready|health)/?$")


class CorsMiddleware(corsheaders.middleware.CorsMiddleware):
    """django-cors-headers, minus its work on a probe that carries no Origin header.

    Only browsers send Origin, and a browser's request still gets the full CORS
    treatment. For the platform's probes (no Origin), parsing every header into
    `request.headers` and patching `Vary` was a third of /ready's time per request
    (docs/PERFORMANCE.md); their responses are `no-store`, so `Vary` means nothing.
    """

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_ORIGIN" not in request.META and PROBE_PATH.match(request.path_info):
            return self.get_response(request)
        return super().__call__(request)


class ProbeMiddleware:
    """Answer /ready and /health before host validation, redirects and sessions.

    App Service's probes send `Host: <instance address>:<port>`, which no
    ALLOWED_HOSTS list can predict; probes must also never be redirected to HTTPS
    (the health check does not follow redirects). Every other path goes through
    the full stack and keeps ALLOWED_HOSTS.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        from health.views import HealthView, ReadyView, health_probe, ready_probe

        self.probes = {"ready": ready_probe, "health": health_probe}
        self.views = {"ready": ReadyView.as_view(), "health": HealthView.as_view()}
        # What SecurityMiddleware and XFrameOptionsMiddleware add to every other answer;
        # probes answer before them. Constant, so computed once.
        self.security_headers = {  # (a few dict stores per probe)
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": settings.X_FRAME_OPTIONS,
            "Referrer-Policy": settings.SECURE_REFERRER_POLICY,
            "Cross-Origin-Opener-Policy": settings.SECURE_CROSS_ORIGIN_OPENER_POLICY,
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = PROBE_PATH.match(request.path_info)
        if match is None:
            return self.get_response(request)
        if request.method in ("GET", "HEAD"):
            response = self.probes[match.group(1)](request)  # the fast path every probe takes
        else:
            response = self.views[match.group(1)](request)  # DRF: 405 with Allow, OPTIONS
            response.render()
        for name, value in self.security_headers.items():
            if value:
                response[name] = value
        return response


class JsonErrorMiddleware:
    """Keep the API's error shape whatever produced the error.

    Django answers some errors itself with HTML (CSRF failures, DEBUG pages,
    exceptions in other middleware); this rewrites any non-JSON error body on an
    API path to `{"detail": ...}`, keeping the status and headers (Allow,
    WWW-Authenticate, Retry-After). A database outage becomes a 503.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and not response.streaming
            and not response.get("Content-Type", "").startswith("application/json")
            and not wants_html(request)
        ):
            body = (server_error_body() if response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
                    else {"detail": status_phrase(response.status_code)})
            response.content = json.dumps(body).encode()
            response["Content-Type"] = "application/json"
            if response.has_header("Content-Length"):  # set by CommonMiddleware for the old body
                response["Content-Length"] = str(len(response.content))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_OUTAGE):
            log.warning("database unavailable during %s %s: %s", request.method, request.path,
                        type(exception).__name__)
            return database_unavailable()
        return None


class BodySizeMiddleware:
    """Answer 413 JSON for a declared body over DATA_UPLOAD_MAX_MEMORY_SIZE, and 411
    for a body sent without Content-Length (`Transfer-Encoding: chunked`).

    Django reads exactly CONTENT_LENGTH bytes of a body, so a chunked body reads as
    empty: a chunked JSON login would be told its fields are missing, and a 3 MB
    chunked body would never meet the size limit. Saying so (411) is better than
    silently ignoring it. Probes are exempt: they read no body.

    Django only notices an oversized body when something reads it, and then raises
    RequestDataTooBig, which it answers as a 400 (an HTML page outside DRF). Checking
    Content-Length first gives the right status on every route, including those
    that never read a body.

    The body is read and thrown away (never held) before answering, up to
    DRAIN_LIMIT: gunicorn drains at most 64 KiB of an unread body and then closes
    the connection, and a client still sending the rest then gets a reset instead
    of the 413 (seen about once in 60 on loopback). Beyond DRAIN_LIMIT the answer
    goes at once and gunicorn closes the connection, as it should for such a body.
    """

    DRAIN_LIMIT = 16 * 1024 * 1024
    CHUNK = 64 * 1024

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (request.META.get("HTTP_TRANSFER_ENCODING") and not request.META.get("CONTENT_LENGTH")
                and not PROBE_PATH.match(request.path_info)):
            self.discard_chunked_body(request)
            return json_error(HTTPStatus.LENGTH_REQUIRED,
                              "Send the request body with a Content-Length header (chunked bodies are not read).")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # gunicorn refuses a malformed Content-Length before Django sees it
        if limit is not None and length > limit:
            if length <= self.DRAIN_LIMIT:
                self.discard_body(request, length)
            return json_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                              f"Request body too large: the limit is {limit} bytes.")
        return self.get_response(request)

    def discard_chunked_body(self, request: HttpRequest) -> None:
        """As for the 413: read (from the server's stream: Django's is empty here) and drop
        up to DRAIN_LIMIT, so the client reads the answer rather than a reset."""
        stream = request.META.get("wsgi.input")
        remaining = self.DRAIN_LIMIT
        try:
            while stream is not None and remaining > 0:
                chunk = stream.read(min(self.CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
        except (OSError, ValueError):
            return  # the client went away or sent broken chunks: nobody is left to answer

    def discard_body(self, request: HttpRequest, length: int) -> None:
        remaining = length
        try:
            while remaining > 0:
                chunk = request.read(min(self.CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
        except OSError:
            return  # the client went away: nobody is left to answer
