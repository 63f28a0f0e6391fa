"""`make run`'s script (scripts/run.sh) as a newcomer meets it, in a copy of the project.

A copy, because the script writes `.env` in the project folder: the developer's own
checkout is never touched. The copy shares this checkout's `.venv` (a symlink).
"""

from __future__ import annotations

import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import ROOT, free_port, request, service_env, stop_group

pytestmark = pytest.mark.slow

SKIP = {".git", ".venv", "node_modules", "staticfiles", "test-output", ".pytest_cache", ".ruff_cache",
        "__pycache__", "db.sqlite3", ".env"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=lambda _dir, names: [n for n in names if n in SKIP])
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def newcomer_env(**env: str | None) -> dict[str, str]:
    """A shell with nothing exported: no SECRET_KEY, ENV_FILE at its default."""
    return service_env(SECRET_KEY=None, ENV_FILE=None, LOG_FORMAT=None, **env)


class RunScript:
    def __init__(self, project: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.log = project / "run.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=project,
                                         env={**env, "APP_PORT": str(self.port)}, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            assert self.proc.poll() is None, f"run.sh exited:\n{self.text()}"
            assert time.monotonic() < deadline, f"not ready in 90 s:\n{self.text()}"
            try:
                if request(self.port, "GET", "/ready", timeout=2).status == 200:
                    return
            except OSError:
                time.sleep(0.3)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        stop_group(self.proc)


@pytest.fixture
def run_script(project: Path) -> Iterator:
    started: list[RunScript] = []

    def start(**env: str | None) -> RunScript:
        started.append(RunScript(project, newcomer_env(SQLITE_PATH=str(project / "db.sqlite3"), **env)))
        return started[-1]

    yield start
    for script in started:
        script.stop()


def manage_in(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([".venv/bin/python", "manage.py", *args], cwd=project, capture_output=True, text=True,
                          timeout=60, env=newcomer_env(SQLITE_PATH=str(project / "db.sqlite3")))


def test_first_run_writes_env_so_manage_py_works_as_the_runbook_says(project: Path, run_script) -> None:
    server = run_script()
    env_file = project / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    lines = env_file.read_text().splitlines()
    (key_line,) = [line for line in lines if line.startswith("SECRET_KEY=")]
    key = key_line.removeprefix("SECRET_KEY=")
    assert len(key) >= 50
    assert any(line.startswith("#") and "SECRET_KEY" in line and "development" in line for line in lines)
    assert key not in server.text()
    # The command the runbook and README give, in a new shell with nothing exported.
    diagnose = manage_in(project, "diagnose")
    assert diagnose.returncode == 0, diagnose.stdout + diagnose.stderr
    assert "SECRET_KEY" not in diagnose.stdout and key not in diagnose.stdout + diagnose.stderr
    # README's examples are what the server prints.
    readme = (ROOT / "README.md").read_text()
    ready = request(server.port, "GET", "/ready").body.decode()
    assert ready == '{"status":"ready","service":"infinityai-backend-app"}' and ready in readme
    health = request(server.port, "GET", "/health").body.decode()
    assert '"database":"connected"' in health and '"database":"connected"' in readme
    for ignore in (".gitignore", ".dockerignore"):
        assert ".env" in (ROOT / ignore).read_text().split("\n") or "**/.env" in (ROOT / ignore).read_text()


def test_existing_env_without_secret_key_is_left_alone_with_a_hint(project: Path, run_script) -> None:
    env_file = project / ".env"
    env_file.write_text("LOG_FORMAT=console\n")
    server = run_script()
    assert env_file.read_text() == "LOG_FORMAT=console\n"
    hints = [line for line in server.text().splitlines() if line.startswith("run: no SECRET_KEY")]
    assert len(hints) == 1 and ".venv/dev-secret-key" in hints[0] and ".env" in hints[0], server.text()


def test_env_with_a_secret_key_is_left_alone(project: Path, run_script) -> None:
    """A .env with its own key: nothing written, no hint; manage.py reads the same file."""
    (project / ".env").write_text("SECRET_KEY=own-development-key-0123456789-abcdefghijklmnopqrstuvwxyz\n")
    server = run_script()
    assert "run: " not in server.text()
    assert (project / ".env").read_text().count("SECRET_KEY=") == 1
    assert manage_in(project, "diagnose").returncode == 0


def test_an_invalid_setting_stops_make_run_with_one_message(project: Path) -> None:
    """Not "serving anyway": the server would refuse the same setting, so the one message is the end."""
    result = subprocess.run(["bash", "scripts/run.sh"], cwd=project, capture_output=True, text=True, timeout=60,
                            env=newcomer_env(SQLITE_PATH=str(project / "db.sqlite3"), APP_PORT=str(free_port()),
                                             HEALTH_DB_TIMEOUT="-1"))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert output.count("Invalid configuration") == 1 and "HEALTH_DB_TIMEOUT" in output, output
    assert "serving anyway" not in output and "Traceback" not in output, output
