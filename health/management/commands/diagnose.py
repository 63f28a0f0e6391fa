"""`python manage.py diagnose [--json]`: what is wrong with this instance and what to do.

Exit status 0 only when no check failed (warnings allowed), 1 otherwise; a broken
configuration is reported the same way by manage.py before Django starts.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from health.diagnostics import diagnose, render_text


class Command(BaseCommand):
    help = "Check the configuration and the database connection; name the cause and the fix of each problem."
    requires_system_checks: list[str] = []  # must run even when a system check would fail

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON document instead of lines")

    def handle(self, *args: Any, **options: Any) -> None:
        report = diagnose(settings.CONFIG)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write(render_text(report))
        if not report.ok:
            raise SystemExit(1)
