"""The cache the gunicorn workers of one instance share: a folder of files.

Without REDIS_URL, or while Redis is down, login-failure counts and revoked tokens
live on the instance itself. In each process's memory, a user name would get
`LOGIN_FAILURES_PER_USER` guesses per worker, and a logout of the fallback admin
during a database outage would hold only in the worker that took it (the others
would refresh the revoked token). Files in one folder are seen by every worker.

gunicorn.conf.py calls `prepare` in the master, before any worker exists, so the
folder's path is in each worker's environment (`INSTANCE_CACHE_DIR`) when its
settings are read. Outside gunicorn (manage.py, in-process tests) the variable is
empty and the settings use process memory instead.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.files import locks

from infinityai.config import ConfigError, exit_with

ENV = "INSTANCE_CACHE_DIR"
LOCK_NAME = "cache.lock"  # not *.djcache: never culled or cleared with the entries


def prepare(configured: str) -> tuple[Path, bool]:
    """Set the folder up; returns it and whether it is ours to remove at exit. A
    configured folder (checked by infinityai.config) is kept between starts: a
    revocation outlives a restart. One that cannot be written to stops the start,
    as a bad setting does: the workers would each count alone without a word."""
    if configured:
        path = Path(configured).resolve()
        owned = False
        try:
            path.mkdir(mode=0o700, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            exit_with(ConfigError([f"INSTANCE_CACHE_DIR: {configured!r} cannot be written to "
                                   f"({exc.strerror or type(exc).__name__})"]))
    else:
        path = Path(tempfile.mkdtemp(prefix="infinityai-cache-"))
        owned = True
    os.environ[ENV] = str(path)
    return path, owned


def remove(path: Path, owned: bool) -> None:
    if owned:
        shutil.rmtree(path, ignore_errors=True)


class InstanceFileCache(FileBasedCache):
    """Django's file cache with `add` and `incr` made atomic across processes (one lock
    file), and `incr` keeping the entry's expiry: Django's generic `incr` rewrites the
    entry with the default timeout, which would shorten a lockout window to 300 s."""

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        self._createdir()
        with open(os.path.join(self._dir, LOCK_NAME), "ab") as lock:
            locks.lock(lock, locks.LOCK_EX)
            try:
                yield
            finally:
                locks.unlock(lock)

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        with self._exclusive():
            return super().add(key, value, timeout, version)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> Any:
        with self._exclusive():
            fname = self._key_to_file(key, version)
            try:
                # Django's own format and reading (FileBasedCache.get): files in a 0700
                # folder that only this service writes.
                with open(fname, "rb") as f:
                    expiry = pickle.load(f)  # noqa: S301
                    value = pickle.loads(zlib.decompress(f.read()))  # noqa: S301
            except (FileNotFoundError, EOFError):
                raise ValueError(f"Key '{key}' not found") from None
            remaining = None if expiry is None else expiry - time.time()
            if remaining is not None and remaining <= 0:
                self._delete(fname)
                raise ValueError(f"Key '{key}' not found")
            value += delta
            self.set(key, value, remaining, version)  # the time left, not a new window
            return value
