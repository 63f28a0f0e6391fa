"""HEAD answered without a body, at the WSGI edge.

Django's WSGI handler sends a HEAD response's body as it would for GET; gunicorn
(27 and later) drops it per RFC 9110 and logs a WARNING for every such request, so an
uptime monitor probing with HEAD would fill the log. Dropping the body here keeps the
status and headers (Content-Length included: what GET would send) and the log quiet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _NoBody:
    """An empty body that still closes the original (Django's request_finished)."""

    __slots__ = ("_result",)

    def __init__(self, result: Iterable[bytes]) -> None:
        self._result = result

    def __iter__(self) -> Iterator[bytes]:
        return iter(())

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


def without_head_bodies(app: WSGIApp) -> WSGIApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        result = app(environ, start_response)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return _NoBody(result)
        return result

    return application
