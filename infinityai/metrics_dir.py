"""The directory prometheus_client's multiprocess mode shares between gunicorn workers.

Imported by gunicorn.conf.py in the master, before any worker exists: the variable
must be in the environment before a worker first imports prometheus_client (it picks
its storage at import). Emptied at every start, because files left by an earlier
run would be added to this run's counts. Deliberately imports nothing of
prometheus_client itself.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(configured: str) -> tuple[Path, bool]:
    """Set up the directory; returns it and whether it is ours to remove at exit."""
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        owned = False
    else:
        path = Path(tempfile.mkdtemp(prefix="infinityai-metrics-"))
        owned = True
    os.environ[ENV] = str(path)
    return path, owned


def worker_exited(pid: int) -> None:
    """gunicorn child_exit: drop the dead worker's live gauges (its counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def remove(path: Path, owned: bool) -> None:
    if owned:
        shutil.rmtree(path, ignore_errors=True)
