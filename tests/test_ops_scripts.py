"""The runbook's scripts, run as an operator runs them."""

from __future__ import annotations

import subprocess
import time

import bcrypt
import pytest

from tests.support.faults import HangingListener
from tests.support.servers import PYTHON, ROOT

POLL = ROOT / "scripts" / "poll_health.sh"
HASH = ROOT / "scripts" / "generate_bcrypt_hash.py"


def poll(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(POLL), *args], capture_output=True, text=True, timeout=timeout,
                          env={"PATH": "/usr/bin:/bin:/usr/local/bin"})


def test_poll_health_exits_zero_when_connected(serve, sqlite_env) -> None:
    server = serve(**sqlite_env)
    result = poll("--url", f"http://127.0.0.1:{server.port}/health", "--timeout", "20", "--interval", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database=connected" in result.stdout
    assert "database connected after" in result.stdout


def test_poll_health_times_out_when_the_database_never_answers(serve) -> None:
    """A database that accepts and hangs: /health says timeout; the script gives up at its timeout with 1."""
    with HangingListener() as listener:
        server = serve(DB_HOST="127.0.0.1", DB_PORT=str(listener.port), DB_SSL_DISABLED="true",
                       HEALTH_DB_TIMEOUT="0.5")
        started = time.monotonic()
        result = poll("--url", f"http://127.0.0.1:{server.port}/health", "--timeout", "3", "--interval", "1")
        elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert 3 <= elapsed < 8
    assert "database=timeout" in result.stdout
    assert "timed out after" in result.stderr and "manage.py diagnose" in result.stderr
    # Not a terminal: plain lines, one per attempt, no carriage returns.
    assert "\r" not in result.stdout and result.stdout.count("attempts") >= 2


@pytest.mark.parametrize("args", [["--bogus"], ["--timeout"], ["--timeout", "soon"], ["--interval", "-1"],
                                  ["--url", "ftp://x/health"]])
def test_poll_health_bad_arguments_exit_two(args: list[str]) -> None:
    result = poll(*args)
    assert result.returncode == 2
    assert "Usage:" in result.stderr


def test_poll_health_help() -> None:
    result = poll("--help")
    assert result.returncode == 0 and "--timeout SECONDS" in result.stdout


def run_hash(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(PYTHON), str(HASH), *args], capture_output=True, text=True, timeout=60, input=stdin)


def test_bcrypt_hash_verifies_and_mentions_dollar_signs() -> None:
    password = "correct horse €"
    result = run_hash("--cost", "4", password)
    assert result.returncode == 0, result.stderr
    hashed = result.stdout.strip()
    assert hashed.startswith("$2b$04$") and len(hashed) == 60
    assert bcrypt.checkpw(password.encode(), hashed.encode())
    assert "$$" in result.stderr  # the reminder about $ in Compose files


def test_bcrypt_default_cost_is_12() -> None:
    result = run_hash("pw-for-cost-check")
    assert result.stdout.startswith("$2b$12$")


@pytest.mark.parametrize("password", ["a" * 73, "é" * 37])
def test_bcrypt_refuses_passwords_over_72_bytes(password: str) -> None:
    result = run_hash("--cost", "4", password)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "72" in result.stderr and str(len(password.encode())) in result.stderr


def test_bcrypt_exactly_72_bytes_is_accepted() -> None:
    result = run_hash("--cost", "4", "é" * 36)
    assert result.returncode == 0
    assert bcrypt.checkpw(("é" * 36).encode(), result.stdout.strip().encode())


@pytest.mark.parametrize("cost", ["3", "16", "31"])
def test_bcrypt_bad_cost_exits_two(cost: str) -> None:
    result = run_hash("--cost", cost, "pw")
    assert result.returncode == 2 and result.stdout == ""
    assert "--cost must be between 4 and 15" in result.stderr


def test_bcrypt_without_password_or_terminal_says_how() -> None:
    """Run from a script or CI (stdin not a terminal) with no argument: a sentence, not EOFError."""
    result = run_hash(stdin="")
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr and "EOFError" not in result.stderr
    assert "no password given" in result.stderr and "generate_bcrypt_hash.py 'YourPassword'" in result.stderr
