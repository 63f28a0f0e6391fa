"""The version /health reports: APP_VERSION, else the git commit of the checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings


def _git_sha(root: Path) -> str | None:
    """Read .git directly: no subprocess, and no git binary in the container."""
    git = root / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        ref_file = git / ref
        if ref_file.is_file():
            return ref_file.read_text().strip()[:12]
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0][:12]
    except OSError:
        return None
    return None


@cache
def app_version() -> str:
    return settings.CONFIG.APP_VERSION or _git_sha(settings.BASE_DIR) or "unknown"
