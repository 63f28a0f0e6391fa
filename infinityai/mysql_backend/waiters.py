"""At most a few request threads per process wait on the database at once.

A database that hangs (after accept, or mid-query) holds each thread that talks to
it for DB_CONNECT_TIMEOUT or DB_READ_TIMEOUT. With every request thread of a worker
held, `/ready` and everything else queue behind them: a burst of sign-ins during a
hang stalled `/ready` for the whole connect timeout. So connecting, the reuse check
(a ping) and each query first take one of `DATABASE_WAITERS` places (the threads per
worker less two); a thread that finds none free within `WAIT_SECONDS`, or at once
when every holder has been waiting that long already, gets the database error an
outage gives, and its request answers as during one (a sign-in 503 at once, the
fallback admin at bcrypt speed). Healthy queries take milliseconds, so
the wait is never felt while the database answers.

The `/health` checker is exempt (`exempt`): it is one thread per process with its
own deadline (health/checks.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db.utils import OperationalError

WAIT_SECONDS = 0.25

_places: threading.BoundedSemaphore | None = None
_size = 0
_local = threading.local()
_entered: dict[int, float] = {}  # holder thread -> when it took its place
_entered_lock = threading.Lock()


class NoPlace(OperationalError):
    """Every place is taken: the database is answering slowly or not at all."""


def _semaphore() -> threading.BoundedSemaphore:
    global _places, _size
    with _entered_lock:  # two first users must not make two semaphores
        if _places is None:
            from django.conf import settings

            _size = settings.DATABASE_WAITERS
            _places = threading.BoundedSemaphore(_size)
    return _places


@contextmanager
def place() -> Iterator[None]:
    """Hold one place while talking to the database (re-entrant on one thread)."""
    if getattr(_local, "depth", 0) or getattr(_local, "exempt", False):
        _local.depth = getattr(_local, "depth", 0) + 1
        try:
            yield
        finally:
            _local.depth -= 1
        return
    places = _semaphore()
    if not places.acquire(blocking=False) and (_all_held_long() or not places.acquire(timeout=WAIT_SECONDS)):
        raise NoPlace(f"database: all {_size} places of this process are waiting on it")
    _local.depth = 1
    me = threading.get_ident()
    with _entered_lock:
        _entered[me] = time.monotonic()
    try:
        yield
    finally:
        with _entered_lock:
            _entered.pop(me, None)
        _local.depth = 0
        places.release()


def _all_held_long() -> bool:
    """Every holder has been at it for WAIT_SECONDS or more: the database is stuck, and
    waiting for a place would only hold one more thread (one after another, each for
    WAIT_SECONDS, they would still queue /ready behind them)."""
    with _entered_lock:
        newest = max(_entered.values(), default=None)
    return newest is not None and time.monotonic() - newest >= WAIT_SECONDS


def exempt() -> None:
    """This thread bounds its own waiting: it never takes a place."""
    _local.exempt = True


def execute_wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    """For `DatabaseWrapper.execute_wrappers`: every query through Django's cursors."""
    with place():
        return execute(sql, params, many, context)
