"""Prometheus metrics, right across gunicorn's worker processes.

prometheus_client's multiprocess mode: each worker writes its samples to memory-mapped
files in PROMETHEUS_MULTIPROC_DIR and `/metrics` merges every worker's files, so a
scrape that lands on one worker still reports all of them. gunicorn.conf.py sets the
directory up (see `infinityai.metrics_dir`) before any worker imports this module,
and marks dead workers in `child_exit`. Without the variable (manage.py, in-process
tests) the ordinary single-process registry is used.

Labels stay few and bounded: the view's name (not the raw path, which any client
can vary), the method and the status.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.signals import OUTCOMES
from infinityai.errors import json_error
from infinityai.middleware import PROBE_PATH

log = logging.getLogger("infinityai.metrics")

LOGIN_OUTCOMES = OUTCOMES
UNMATCHED = "<unmatched>"
# Any other method a client sends is counted as "other": a label per made-up method
# would let clients create series without bound.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter("infinityai_http_requests_total", "HTTP requests answered, by view, method and status.",
                   ["view", "method", "status"])
LATENCY = Histogram("infinityai_http_request_duration_seconds", "Time to answer an HTTP request, by view.",
                    ["view"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
DATABASE_UP = Gauge("infinityai_database_up",
                    "The database state last reported by /health: 1 connected, 0 otherwise.",
                    multiprocess_mode="livemostrecent")
HEALTH_CHECK = Histogram("infinityai_health_check_duration_seconds",
                         "Time /health spent on its database check, by the state it reported.", ["state"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 5))
LOGINS = Counter("infinityai_login_attempts_total", "Login attempts by outcome.", ["outcome"])
for _outcome in LOGIN_OUTCOMES:
    LOGINS.labels(_outcome)


def view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or UNMATCHED
    probe = PROBE_PATH.match(request.path_info)  # answered by ProbeMiddleware before routing
    return probe.group(1) if probe else UNMATCHED


class MetricsMiddleware:
    """Counts and times every response (second in MIDDLEWARE, so probes count too)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = self.get_response(request)
        view = view_label(request)
        method = request.method if request.method in METHODS else "other"
        count, latency = _series(view, method, response.status_code)
        count.inc()
        latency.observe(time.monotonic() - started)
        return response


@functools.lru_cache(maxsize=1024)
def _series(view: str, method: str, status: int) -> tuple[Any, Any]:
    """The two series a response goes to. prometheus-client's `labels()` builds and
    checks the label tuple under a lock on every call; the label sets are few (views
    x methods x statuses), so each is looked up once."""
    return REQUESTS.labels(view, method, str(status)), LATENCY.labels(view)


def record_health(state: str, seconds: float) -> None:
    """Called with each result /health reports (health.checks listener)."""
    DATABASE_UP.set(1 if state == "connected" else 0)
    HEALTH_CHECK.labels(state).observe(seconds)


def record_login(sender: object = None, outcome: str = "", **kwargs: object) -> None:
    """Receiver for accounts.signals.login_attempted."""
    if outcome in LOGIN_OUTCOMES:
        LOGINS.labels(outcome).inc()
    else:
        log.warning("login_attempted sent with an unknown outcome %r", outcome)


def registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    return merged


class MetricsView(APIView):
    """GET /metrics: 404 when METRICS_TOKEN is unset, 401 without the right bearer token.

    The token is checked here, not by the API's authentication classes: a scraper holds
    one shared secret, not a user's token."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()
    http_method_names = ["get", "head", "options"]

    def get(self, request: Request) -> HttpResponse:
        token = settings.CONFIG.METRICS_TOKEN
        if not token:
            return json_error(HTTPStatus.NOT_FOUND)
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return json_error(HTTPStatus.UNAUTHORIZED, "A valid metrics token is required.",
                              WWW_Authenticate='Bearer realm="metrics"')
        return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST,
                            headers={"Cache-Control": "no-store"})
