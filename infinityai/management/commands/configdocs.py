"""Write docs/CONFIGURATION.md and .env.example from infinityai/config.py."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from infinityai.config import BASE_DIR, render_env_example, render_markdown

TARGETS = {
    BASE_DIR / "docs" / "CONFIGURATION.md": render_markdown,
    BASE_DIR / ".env.example": render_env_example,
}


class Command(BaseCommand):
    help = "Regenerate the configuration reference and .env.example (--check: fail if stale)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="exit 1 if a file is out of date")

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        stale = []
        for path, render in TARGETS.items():
            text = render()
            if path.exists() and path.read_text() == text:
                continue
            stale.append(path.relative_to(BASE_DIR))
            if not check:
                path.write_text(text)
        if check and stale:
            raise CommandError(f"out of date: {', '.join(map(str, stale))}; run `make configdocs`")
        for path in stale:
            self.stdout.write(f"wrote {path}")
