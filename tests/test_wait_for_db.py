"""`manage.py wait_for_db --timeout S`: exit 0 once the database answers, 1 at the deadline, never later."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import mysql
from tests.support.faults import HangingListener, refused_port
from tests.support.mariadb import MariaDBInstance
from tests.support.servers import PYTHON, ROOT, manage, service_env

# Starting manage.py (Python, Django, settings) costs a second, or many more on a 2-core
# machine shared by several test runs; the deadline is checked on the command's own clock
# (the "waited" it reports), and the wall clock only has to stay far below the 30 s that a
# wait without a deadline would take.
START_COST = 15.0


def waited(stderr: str) -> float:
    return float(re.search(r"waited (\d+\.\d)s", stderr).group(1))


def mysql_at(port: int, name: str = "infinityai", **extra: str) -> dict[str, str]:
    env = {"DB_HOST": "127.0.0.1", "DB_PORT": str(port), "DB_NAME": name, "DB_USER": "root",
           "DB_PASSWORD": "", "DB_SSL_DISABLED": "true", **extra}
    return service_env(**env)


def test_connected_at_once(backend_env) -> None:
    """A reachable database: exit 0 and say so."""
    result = manage(service_env(**backend_env), "wait_for_db", "--timeout", "10")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database connected after" in result.stdout


def test_refused_port_gives_up_at_the_deadline() -> None:
    """Nothing listening: retries, then exit 1 at --timeout with the cause, no host or user named."""
    env = mysql_at(refused_port(), DB_USER="secret-user-name")
    started = time.monotonic()
    result = manage(env, "wait_for_db", "--timeout", "2", "--interval", "0.5")
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not connected after 2s" in result.stderr
    assert "OperationalError(" in result.stdout
    assert result.stdout.count("attempt") >= 2
    assert "secret-user-name" not in result.stdout + result.stderr
    assert 2 <= waited(result.stderr) <= 2.5
    assert elapsed < 2 + START_COST


def test_hanging_database_cannot_hold_it_past_the_deadline() -> None:
    """A server that accepts and never answers, with a 30 s connect timeout: still exit 1 at 2 s."""
    with HangingListener() as listener:
        env = mysql_at(listener.port, DB_CONNECT_TIMEOUT="30", DB_READ_TIMEOUT="30")
        started = time.monotonic()
        result = manage(env, "wait_for_db", "--timeout", "2")
        elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert "still waiting at the deadline" in result.stdout
    assert waited(result.stderr) <= 2.5
    assert elapsed < 2 + START_COST


@pytest.mark.parametrize("args", [["--timeout", "0"], ["--timeout", "abc"], ["--interval", "-1"]])
def test_bad_arguments_are_refused(args: list[str]) -> None:
    """A bad flag is a usage error (exit 1 or 2 with a message), never a wait or a traceback."""
    result = manage(service_env(), "wait_for_db", *args)
    assert result.returncode in (1, 2)
    assert "Traceback" not in result.stderr
    assert "--timeout" in result.stderr or "--interval" in result.stderr


@pytest.mark.mysql
def test_waits_for_a_database_that_starts_late(tmp_path: Path) -> None:
    """Started before its server: keeps trying, and exits 0 soon after the database exists."""
    if mysql.unavailable_reason():
        pytest.skip(mysql.unavailable_reason())
    instance = MariaDBInstance(tmp_path / "mariadb")  # port chosen, server not started
    proc = subprocess.Popen([str(PYTHON), "manage.py", "wait_for_db", "--timeout", "40", "--interval", "0.3"],
                            cwd=ROOT, env=mysql_at(instance.port, name="late_app"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Start the server only once the command has tried and failed at least once.
        first = proc.stdout.readline()  # "waiting up to 40s ..."
        second = proc.stdout.readline()  # "attempt 1 after ...: error (...)"
        assert "waiting up to 40s" in first and "attempt 1 " in second, first + second
        instance.start()
        mysql.execute("CREATE DATABASE late_app", port=instance.port)
        out, err = proc.communicate(timeout=40)
        out = first + second + out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        instance.stop()
    assert proc.returncode == 0, out + err
    assert "attempt 1 " in out and "database connected after" in out
