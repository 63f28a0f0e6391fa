"""A short per-process memory of "the database just failed", for the sign-in paths.

A database that hangs holds each request that tries it for DB_CONNECT_TIMEOUT.
After one sign-in, refresh or sign-out found it unreachable, the others in this
process skip it for RETRY_SECONDS and answer as during an outage (the fallback
admin at bcrypt speed, anyone else a prompt 503), instead of each holding a
thread for the full timeout. The cost: up to RETRY_SECONDS of 503s after the
database comes back.

Only a slow failure is remembered (one that took SLOW_SECONDS or more: a hang, a
connect or read timeout). A fast one (a refused port, a killed session, a server
that has gone away) costs the next request nothing to find out again, and
remembering it would turn one killed session into seconds of 503s while the
database is up.
"""

from __future__ import annotations

import threading
import time

RETRY_SECONDS = 5.0
SLOW_SECONDS = 1.0
_lock = threading.Lock()
_down_until = 0.0


def recently_down() -> bool:
    return time.monotonic() < _down_until


def note(started: float) -> None:
    """The database just failed an operation begun at `started` (time.monotonic())."""
    global _down_until
    if time.monotonic() - started < SLOW_SECONDS:
        return
    with _lock:
        _down_until = time.monotonic() + RETRY_SECONDS
