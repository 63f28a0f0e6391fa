"""The cache that login throttling and token revocation count in, kept answering
when Redis is not.

With REDIS_URL set, counts live in Redis so that every instance sees the same
numbers. When Redis fails (refused, timed out), the operation falls back to the
cache this instance's workers share (the "local" cache: a folder of files,
infinityai/instance_cache.py) and Redis is left alone for `RETRY_SECONDS`, so an
outage costs one short timeout per process, not one per request. Throttling then
still works, per instance instead of across them (see
docs/decisions/login-throttling.md). Should the folder fail too (a full disk),
this process's memory answers rather than a 500.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches

log = logging.getLogger("accounts.cache")

RETRY_SECONDS = 10.0
T = TypeVar("T")

_lock = threading.Lock()
_down_until: dict[str, float] = {}
_process_cache: BaseCache | None = None


def _errors() -> tuple[type[BaseException], ...]:
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is in requirements/base.txt
        return (OSError,)
    return (RedisError, OSError)


def _process() -> BaseCache:
    """The last resort, this process's memory: not one of CACHES, so that Django does
    not visit it after every request."""
    global _process_cache
    if _process_cache is None:
        from django.core.cache.backends.locmem import LocMemCache

        _process_cache = LocMemCache("accounts-process", {"OPTIONS": {"MAX_ENTRIES": settings.CACHE_ENTRIES}})
    return _process_cache


def run(operation: Callable[[BaseCache], T]) -> T:
    """Apply `operation` to the first of CACHES ("default", then "local") not known to be
    down, else to this process's memory."""
    for alias in ("default", "local"):
        if alias not in settings.CACHES or time.monotonic() < _down_until.get(alias, 0.0):
            continue
        try:
            return operation(caches[alias])
        except _errors() as exc:
            with _lock:
                first = time.monotonic() >= _down_until.get(alias, 0.0)
                _down_until[alias] = time.monotonic() + RETRY_SECONDS
            if first:
                log.warning("%s cache unavailable (%s); using the next for %ss",
                            "shared" if "local" in settings.CACHES and alias == "default" else "instance",
                            type(exc).__name__, RETRY_SECONDS)
    return operation(_process())


def get_many(keys: list[str]) -> dict[str, Any]:
    return run(lambda c: c.get_many(keys))


def set_value(key: str, value: Any, timeout: float) -> None:
    run(lambda c: c.set(key, value, timeout))


def get(key: str) -> Any:
    return run(lambda c: c.get(key))


def increment(key: str, timeout: float, start: Any = None) -> int:
    """Add one to `key`, creating it (with `timeout`) when absent. Atomic in Redis and in memory."""

    def op(c: BaseCache) -> int:
        c.add(key, 0, timeout)
        try:
            return c.incr(key)
        except ValueError:  # expired between add and incr
            c.set(key, 1, timeout)
            return 1

    return run(op)


def add(key: str, value: Any, timeout: float) -> bool:
    return run(lambda c: c.add(key, value, timeout))


def delete_many(keys: list[str]) -> None:
    run(lambda c: c.delete_many(keys))
