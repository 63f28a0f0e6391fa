"""The database check behind /health: one in flight per process, with a deadline.

Why not run `SELECT 1` in the request thread: a database that accepts and then
never answers would hold that thread for DB_CONNECT_TIMEOUT or DB_READ_TIMEOUT,
and every probe would hold one more, until the worker has no thread left for
real requests. Instead each process has one checker thread with its own
persistent connection. A request starts a check only when none is running,
and otherwise joins the running one, waiting at most until *that* check's
deadline. A check still running after its deadline makes every request answer
`timeout` at once, so a hung database costs one thread and one connection per
process, however many probes arrive.

A result is answered again, without a new round trip, to requests that arrive within
REUSE_SECONDS of its check finishing. Why: under a burst of probes each process ran
checks back to back (0.3 to 0.6 `SELECT 1` per /health at 16 clients), each a
hand-off and a round trip costing more than the rest of the request; a probe flood
became a database load, and /health answered 0.67x the requests of /ready (make bench).
With the reuse, a process runs at most 1 / REUSE_SECONDS checks a second whatever
arrives, and a report is at most REUSE_SECONDS older than a fresh one: nothing a
platform probe (one a minute) or an operator can tell apart
(docs/decisions/health-result-reuse.md).

Only MAX_WAITERS request threads per process wait for a running check. A further
request that arrives while the check is still within its deadline answers at once
with the previous result, when one finished in the last RECENT_SECONDS: until the
running check has overrun its deadline, that is the best knowledge there is. With
no recent result it waits too (there is nothing true to say sooner). Without this
cap, a burst of probes against a hung database held every thread of the worker for
the whole deadline and plain requests (/ready) queued behind them
(docs/decisions/health-waiters-cap.md).
"""

from __future__ import annotations

import contextvars
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import DEFAULT_DB_ALIAS, Error, connections

from infinityai.mysql_backend import waiters

log = logging.getLogger("health.checks")

MAX_WAITERS = 2  # of a worker's GUNICORN_THREADS (8 by default)
RECENT_SECONDS = 10.0
REUSE_SECONDS = 0.1

# Driver error codes meaning the connection died under us (server gone away, lost
# connection during query, lost connection to server at handshake).
CONNECTION_LOST = {2006, 2013, 2055}


class DatabaseState(StrEnum):
    CONNECTED = "connected"  # a SELECT 1 round trip succeeded
    TIMEOUT = "timeout"  # the check did not finish by its deadline (it may still run)
    ERROR = "error"  # the check failed
    DISCONNECTED = "disconnected"  # it finished, but the connection is not usable


@dataclass(frozen=True)
class CheckResult:
    state: DatabaseState
    latency_ms: float | None
    # The exception's class and driver code, for logs and diagnostics; never
    # the driver's text, which can name hosts and users.
    cause: str | None = None


@dataclass
class _Attempt:
    started: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    result: CheckResult | None = None
    # The context of the request that started the check, so that the checker thread's
    # log lines carry that request's id.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    waiters: int = 0  # request threads waiting for this check


def _error_code(exc: BaseException) -> int | None:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def probe_database(alias: str = DEFAULT_DB_ALIAS) -> CheckResult:
    """One round trip on this thread's connection; reconnect once if it had died."""
    conn = connections[alias]
    started = time.monotonic()
    had_connection = conn.connection is not None
    for attempt in (1, 2):
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1")
                row = cursor.fetchone()
        except Error as exc:
            # Django leaves `connection` None when connecting itself failed: a connection
            # that never opened was not "lost" (e.g. DB_PORT names a service that is not
            # MySQL and closes at once, which the driver reports as a lost connection).
            was_open = conn.connection is not None
            conn.close()
            if attempt == 1 and had_connection:
                continue  # the reused connection was stale (server restarted, KILL): try a fresh one
            code = _error_code(exc.__cause__ or exc)
            lost = was_open and code in CONNECTION_LOST
            state = DatabaseState.DISCONNECTED if lost else DatabaseState.ERROR
            cause = f"{type(exc.__cause__ or exc).__name__}({code})" if code else type(exc).__name__
            return CheckResult(state, None, cause)
        latency = round((time.monotonic() - started) * 1000, 2)
        if row is None or row[0] != 1:
            conn.close()
            return CheckResult(DatabaseState.DISCONNECTED, latency, "unexpected reply")
        return CheckResult(DatabaseState.CONNECTED, latency)
    raise AssertionError("unreachable")


class DatabaseCheck:
    """Per-process coordinator of database checks (see the module docstring)."""

    def __init__(self, alias: str = DEFAULT_DB_ALIAS) -> None:
        self.alias = alias
        self._lock = threading.Lock()
        self._current: _Attempt | None = None
        self._queue: queue.SimpleQueue[_Attempt] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self.last_result: CheckResult | None = None
        self.last_finished: float | None = None
        self._listeners: list[Callable[[CheckResult, float], None]] = []

    def add_listener(self, listener: Callable[[CheckResult, float], None]) -> None:
        """Call `listener(result, seconds_waited)` with every result `run` reports
        (metrics use it). Listeners run on the request's thread and must be quick."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def run(self, timeout: float) -> CheckResult:
        called = time.monotonic()
        result = self._run(timeout)
        for listener in self._listeners:
            try:
                listener(result, time.monotonic() - called)
            except Exception:  # a broken listener must not break /health
                log.exception("health check listener failed")
        return result

    def _run(self, timeout: float) -> CheckResult:
        with self._lock:
            self._ensure_thread()
            attempt = self._current
            if attempt is None or attempt.done.is_set():
                reused = self._recent(REUSE_SECONDS)
                if reused is not None:
                    return reused
                attempt = self._current = _Attempt()
                self._queue.put(attempt)
            deadline = attempt.started + timeout
            if attempt.waiters >= MAX_WAITERS and time.monotonic() < deadline:
                recent = self._recent(RECENT_SECONDS)
                if recent is not None:
                    return recent
            attempt.waiters += 1
        try:
            remaining = deadline - time.monotonic()
            if (attempt.done.wait(remaining) if remaining > 0 else attempt.done.is_set()) \
                    and attempt.result is not None:
                return attempt.result
        finally:
            with self._lock:
                attempt.waiters -= 1
        return CheckResult(DatabaseState.TIMEOUT, None, "deadline")

    def overrunning(self, deadline: float) -> bool:
        """A check of this process has been running for more than `deadline` seconds: the
        database hangs (the sign-in paths then skip it, accounts/outage.py)."""
        attempt = self._current
        return (self._pid == os.getpid() and attempt is not None and not attempt.done.is_set()
                and time.monotonic() - attempt.started > deadline)

    def _recent(self, seconds: float) -> CheckResult | None:
        """The last result, if its check finished in the last `seconds`."""
        finished = self.last_finished
        if finished is not None and time.monotonic() - finished <= seconds:
            return self.last_result
        return None

    def _ensure_thread(self) -> None:
        # After a fork (gunicorn workers) the parent's thread does not exist here.
        if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
            if self._pid != os.getpid():
                self._queue = queue.SimpleQueue()
                self._current = None
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._serve, name="health-db-check", daemon=True)
            self._thread.start()

    def _serve(self) -> None:
        waiters.exempt()  # one thread with its own deadline: it never queues for a place
        while True:
            attempt = self._queue.get()
            result = attempt.context.run(self._check)
            attempt.result = self.last_result = result
            self.last_finished = time.monotonic()
            attempt.done.set()

    def _check(self) -> CheckResult:
        try:
            result = probe_database(self.alias)
        except Exception:  # never let the checker thread die
            log.exception("database check crashed")
            return CheckResult(DatabaseState.ERROR, None, "crash")
        if result.state is not DatabaseState.CONNECTED:
            log.warning("database check: %s (%s)", result.state.value, result.cause)
        return result


database_check = DatabaseCheck()
