"""The servers run from a virtualenv holding exactly what the container installs
(requirements/production.txt), not the development one: test-only packages change
what the service imports (DRF imports `requests` when it is installed, 6 MiB per
worker that production does not carry)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "bench" / ".venv"


def _requirements_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "requirements").glob("*.txt")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def production_venv() -> Path:
    """The bin/ folder of bench/.venv, made or refreshed when the requirements changed."""
    stamp = VENV / ".requirements-sha256"
    wanted = _requirements_digest()
    if stamp.is_file() and stamp.read_text() == wanted and (VENV / "bin" / "gunicorn").exists():
        return VENV / "bin"
    print("bench: installing requirements/production.txt into bench/.venv", flush=True)
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", "--clear", str(VENV)], check=True, timeout=120)
    subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", "-r",
                    str(ROOT / "requirements" / "production.txt")], check=True, timeout=600)
    stamp.write_text(wanted)
    return VENV / "bin"
