"""`manage.py wait_for_db --timeout S`: wait, with a hard bound, until the database answers.

Why: the container's entrypoint migrates on start only when asked
(MIGRATE_ON_START=true), and a migration against a database that is still
starting fails halfway. Each attempt is the same `SELECT 1` round trip as
/health (`health.checks.probe_database`), run in a thread of its own so that a
database that accepts and never answers cannot hold the command past its
`--timeout`: the deadline is kept whatever DB_CONNECT_TIMEOUT says.

Output names the cause of each failure by exception class and driver code only
(for example `OperationalError(2003)`), never the driver's text, which can hold
host and user names.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from health.checks import CheckResult, DatabaseState, probe_database


def _attempt(alias: str, deadline: float) -> CheckResult | None:
    """One probe on a fresh thread (and so a fresh connection); None if it outlives `deadline`."""
    box: list[CheckResult] = []

    def run() -> None:
        try:
            box.append(probe_database(alias))
        finally:
            connections[alias].close()

    worker = threading.Thread(target=run, name="wait-for-db", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    return box[0] if box else None


class Command(BaseCommand):
    help = "Wait until the database answers SELECT 1, at most --timeout seconds. Exit 0 when it does, 1 if not."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=60.0,
                            help="Give up after this many seconds (default 60).")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="Seconds between attempts (default 1).")
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args: Any, **options: Any) -> None:
        timeout: float = options["timeout"]
        interval: float = options["interval"]
        alias: str = options["database"]
        if not 0 < timeout <= 3600:
            raise CommandError("--timeout must be above 0 and at most 3600 seconds")
        if not 0 < interval <= 60:
            raise CommandError("--interval must be above 0 and at most 60 seconds")

        started = time.monotonic()
        deadline = started + timeout
        self.stdout.write(f"wait_for_db: waiting up to {timeout:g}s for the database")
        attempts = 0
        last = "no attempt finished"
        while time.monotonic() < deadline:
            attempts += 1
            result = _attempt(alias, deadline)
            elapsed = time.monotonic() - started
            if result is not None and result.state is DatabaseState.CONNECTED:
                self.stdout.write(f"wait_for_db: database connected after {elapsed:.1f}s ({attempts} attempt(s))")
                return
            last = "still waiting at the deadline" if result is None else f"{result.state.value} ({result.cause})"
            self.stdout.write(f"wait_for_db: attempt {attempts} after {elapsed:.1f}s: {last}")
            pause = min(interval, deadline - time.monotonic())
            if pause > 0:
                time.sleep(pause)
        waited = time.monotonic() - started
        self.stderr.write(f"wait_for_db: database not connected after {timeout:g}s (waited {waited:.1f}s, "
                          f"{attempts} attempt(s); last: {last}); see docs/RUNBOOK.md section 3")
        raise SystemExit(1)
