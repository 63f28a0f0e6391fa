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

The /health checker's thread learns of a hang first when something probes /health (the
platform does, every minute or so): while its check overruns, sign-ins skip the
database too, instead of each worker's next sign-in paying the driver's timeouts.
"""

from __future__ import annotations

import threading
import time

RETRY_SECONDS = 5.0
SLOW_SECONDS = 1.0
_lock = threading.Lock()
_down_until = 0.0


def recently_down() -> bool:
    """A sign-in path failed slowly in the last RETRY_SECONDS, or this process's /health
    check has overrun HEALTH_DB_TIMEOUT: either way the database hangs, and a sign-in
    that tried it would wait DB_READ_TIMEOUT and then DB_CONNECT_TIMEOUT for its answer."""
    if time.monotonic() < _down_until:
        return True
    from django.conf import settings

    from health.checks import database_check

    return database_check.overrunning(settings.HEALTH_DB_TIMEOUT)


def note(started: float) -> None:
    """The database just failed an operation begun at `started` (time.monotonic())."""
    global _down_until
    if time.monotonic() - started < SLOW_SECONDS:
        return
    with _lock:
        _down_until = time.monotonic() + RETRY_SECONDS
