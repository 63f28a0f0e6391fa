"""The cache folder one instance's workers share: counts from several processes add
up exactly, and a count keeps the window it was created with."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from infinityai.instance_cache import InstanceFileCache

PROCESSES, EACH = 4, 60


def make(folder: Path) -> InstanceFileCache:
    return InstanceFileCache(str(folder), {"OPTIONS": {"MAX_ENTRIES": 100_000}})


def _count(folder: str, n: int) -> None:
    cache = make(Path(folder))
    for _ in range(n):
        cache.add("failures", 0, 900)
        cache.incr("failures")


def test_counts_from_several_processes_add_up(tmp_path: Path) -> None:
    """Django's file cache increments by read-then-write, so processes counting at once
    would lose counts; this one locks."""
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_count, args=(str(tmp_path), EACH)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert make(tmp_path).get("failures") == PROCESSES * EACH


def test_an_increment_keeps_the_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Django's generic incr rewrites the entry with the default timeout (300 s): a 900 s
    lockout window would end early."""
    cache = make(tmp_path)
    cache.add("failures", 0, 900)
    assert cache.incr("failures") == 1
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 600)  # past 300 s, inside 900 s
    assert cache.get("failures") == 1
    assert cache.incr("failures") == 2
    monkeypatch.setattr(time, "time", lambda: now + 901)
    assert cache.get("failures") is None
    with pytest.raises(ValueError):
        cache.incr("failures")


def test_an_expired_or_missing_key_is_not_incremented(tmp_path: Path) -> None:
    cache = make(tmp_path)
    with pytest.raises(ValueError):
        cache.incr("absent")
    cache.set("brief", 5, 1)
    time.sleep(1.1)
    with pytest.raises(ValueError):
        cache.incr("brief")


def test_a_folder_that_cannot_be_written_falls_back_to_memory(settings, tmp_path: Path, caplog) -> None:
    """A full disk or a folder gone wrong must not turn sign-ins into 500s: the counts go
    on in this process's memory, and the fault is logged once."""
    from accounts import cache

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    settings.CACHES = {"default": {"BACKEND": "infinityai.instance_cache.InstanceFileCache",
                                   "LOCATION": str(blocker / "cache")}}
    # (Django's own setting_changed receiver drops the cache objects made before.)
    cache._down_until.clear()
    try:
        assert [cache.increment("failures", 900) for _ in range(3)] == [1, 2, 3]
        assert cache.get("failures") == 3
        assert [r.message for r in caplog.records].count(
            "instance cache unavailable (NotADirectoryError); using the next for 10.0s") == 1
    finally:
        cache._down_until.clear()
