"""A WSGI application with no Django in it, served through the project's gunicorn.conf.py
(as `make bench` serves its baselines): gunicorn's own logging must not need Django."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = b'{"status": "ready"}'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
