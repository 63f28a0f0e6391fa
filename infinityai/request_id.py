"""The request id: taken from `X-Request-ID` when it looks sane, made otherwise.

It is returned on every response and attached to every log line written while the
request is handled (through a context variable that `infinityai.logs.ContextFilter`
reads). Other code (error bodies, metrics) asks `current_request_id()`.

The middleware is first in MIDDLEWARE, before ProbeMiddleware, so probes carry an
id too.
"""

from __future__ import annotations

import contextvars
import os
import re
import time
from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from infinityai.client_address import client_address

HEADER = "X-Request-ID"
META_KEY = "HTTP_" + HEADER.upper().replace("-", "_")
# Letters, digits and a few separators, 1-128 characters: enough for UUIDs, W3C trace
# ids and App Service's ids, and nothing that could forge a log line or inject a header.
_SANE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+=-]{0,127}$")

class RequestContext:
    """What every log line written for a request carries: request_id, method, path, client.

    The client address is worked out when a line first asks for it, not per request:
    most requests (every probe) write no line of their own, and parsing the address
    was a sixth of what a probe cost over a minimal Django view (docs/PERFORMANCE.md).
    """

    __slots__ = ("_client", "_request", "method", "path", "request_id")

    def __init__(self, request: HttpRequest, rid: str) -> None:
        self.request_id = rid
        self.method = request.method
        self.path = request.path
        self._request = request
        self._client: str | None = None

    @property
    def client(self) -> str:
        if self._client is None:
            self._client = client_address(self._request)
        return self._client

    def get(self, name: str) -> Any:
        return getattr(self, name, None) if name in CONTEXT_FIELDS else None


CONTEXT_FIELDS = ("request_id", "method", "path", "client")

_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("request_context", default=None)


def current_context() -> RequestContext | None:
    """The request being handled on this thread, or None outside a request."""
    return _context.get()


def current_request_id() -> str | None:
    """The id of the request being handled on this thread, or None outside a request."""
    context = _context.get()
    return context.request_id if context else None


def accept_or_make(candidate: str | None) -> str:
    if candidate and _SANE.match(candidate):
        return candidate
    return os.urandom(16).hex()  # what uuid4().hex looks like, without building a UUID


class RequestIdMiddleware:
    """Binds the request id for the duration of the request and returns it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META, not request.headers: building the headers mapping costs a probe more
        # than answering it (docs/PERFORMANCE.md).
        rid = accept_or_make(request.META.get(META_KEY))
        request.request_id = rid  # type: ignore[attr-defined]
        request.started_at = time.monotonic()  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs 5xx responses (django.request) after the
        # middleware chain returns. `request_finished` clears it once the response is closed.
        _context.set(RequestContext(request, rid))
        response = self.get_response(request)
        response[HEADER] = rid
        return response


def _clear_context(**kwargs: Any) -> None:
    _context.set(None)


request_finished.connect(_clear_context, dispatch_uid="infinityai.request_id.clear")
