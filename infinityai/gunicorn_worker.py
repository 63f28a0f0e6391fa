"""gunicorn's gthread worker with two changes: JSON error pages, and a read timeout.

1. Requests gunicorn refuses before Django sees them (a negative Content-Length, a
   control character in a header, a header over 8 KB or more than 100 of them, a
   request line over 4 KB, two Host headers, bytes that are not a request line)
   get gunicorn's own HTML page, one of which repeats the request line. Clients
   of this API read `{"detail": ...}`; `handle_error` writes that, with the right
   status, and neither the answer nor the log line repeats what the client sent.

2. A client that sends half a request held a worker thread until it hung up:
   gunicorn 27 waits only 5 s for the first byte, but once a byte has arrived it
   reads the rest with no timeout. A couple of dozen such connections took every
   thread (WEB_CONCURRENCY x GUNICORN_THREADS) and /ready stopped answering. Each
   client socket here gets a read timeout of GUNICORN_CLIENT_TIMEOUT seconds
   instead; when it expires the read ends as if the client had closed the
   connection, which gunicorn handles quietly, and the thread is free again.
   More half-open connections than threads, arriving within one timeout, still
   make probes wait their turn: this bounds the wait, it does not remove it.
"""

from __future__ import annotations

import json
import logging
import socket
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.http import errors
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.gthread import ThreadWorker

log = logging.getLogger("infinityai.gunicorn")

# gunicorn's refusal -> (status, what the client is told). Order matters: first match wins.
_CLIENT_ERRORS: list[tuple[type[BaseException], HTTPStatus, str]] = [
    (errors.LimitRequestLine, HTTPStatus.REQUEST_URI_TOO_LONG, "Request line too long."),
    (errors.LimitRequestHeaders, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
     "Request header fields too large or too many."),
    (errors.UnsupportedTransferCoding, HTTPStatus.NOT_IMPLEMENTED, "Unsupported Transfer-Encoding."),
    (errors.ExpectationFailed, HTTPStatus.EXPECTATION_FAILED, "Unsupported Expect header."),
    (errors.ForbiddenProxyRequest, HTTPStatus.FORBIDDEN, "Forbidden."),
    (errors.InvalidResponseHeader, HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error."),
    (errors.InvalidResponseHeaderName, HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error."),
    (errors.ConfigurationProblem, HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error."),
    (errors.InvalidHeader, HTTPStatus.BAD_REQUEST, "Malformed request: invalid header."),
    (errors.InvalidHeaderName, HTTPStatus.BAD_REQUEST, "Malformed request: invalid header name."),
    (errors.ObsoleteFolding, HTTPStatus.BAD_REQUEST, "Malformed request: folded header."),
    (errors.ParseException, HTTPStatus.BAD_REQUEST, "Malformed request."),
    (UnicodeError, HTTPStatus.BAD_REQUEST, "Malformed request."),
]


def error_for(exc: BaseException) -> tuple[HTTPStatus, str]:
    """The status and detail a refused request gets; anything unforeseen is a 500."""
    for kind, status, detail in _CLIENT_ERRORS:
        if isinstance(exc, kind):
            return status, detail
    return HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error."


def error_response(status: HTTPStatus, detail: str) -> bytes:
    body = json.dumps({"detail": detail}).encode()
    head = (f"HTTP/1.1 {status.value} {status.phrase}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class ClientSocket(socket.socket):
    """A client connection whose blocking reads give up after `read_timeout` seconds.

    gunicorn switches its sockets between non-blocking (while its poller watches
    them) and blocking (while a thread reads); here "blocking" means "blocking for
    at most read_timeout". A read that times out returns b"", as a closed
    connection does, so gunicorn ends the request without an error page or a
    traceback for what is only a slow or stalled client.

    A read timeout is a property of the socket, so it applies wherever gunicorn
    reads in a thread: the request head, the body the application reads, and
    gunicorn's drain of an unread body.
    """

    __slots__ = ()
    read_timeout: float = 10.0

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(self.read_timeout)
        else:
            super().setblocking(False)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        try:
            return super().recv(bufsize, flags)
        except TimeoutError:
            log.info("client sent nothing for %s s: connection closed", self.gettimeout())
            # Shut both ways now: gunicorn's graceful close would otherwise wait up to 2 s
            # more for this client on the worker's main loop, which accepts for all threads.
            try:
                self.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return b""


def configure(read_timeout: float) -> None:
    """Called from gunicorn.conf.py (in the master, before workers fork)."""
    ClientSocket.read_timeout = read_timeout


class JsonErrorWorker(ThreadWorker):
    def handle(self, conn: Any) -> Any:
        if type(conn.sock) is socket.socket:  # not a TLS socket (App Service ends TLS in front)
            conn.sock.__class__ = ClientSocket  # gunicorn's setblocking(True) below now sets the timeout
        return super().handle(conn)

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        status, detail = error_for(exc)
        if status == HTTPStatus.INTERNAL_SERVER_ERROR:
            self.log.exception("Error handling request")
        else:
            # The exception's text repeats the request line or header: only its kind is logged.
            self.log.warning("Refused a malformed request with %s: %s", status.value, type(exc).__name__)
        if req is not None:
            addr = addr or ("", -1)
            environ = default_environ(req, client, self.cfg)
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
            resp = Response(req, client, self.cfg)
            resp.status = f"{status.value} {status.phrase}"
            self.log.access(resp, req, environ, timedelta(0))
        try:
            util.write_nonblock(client, error_response(status, detail))
        except Exception:  # the client may be gone: nothing is left to tell it
            self.log.debug("Failed to send error message.")
