"""Shared fixtures: migrated databases on SQLite and MariaDB, and real servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import mysql
from tests.support.servers import LiveServer, manage, migrated_sqlite, service_env


def skip_or_fail(reason: str) -> None:
    """Skip with a visible reason, or fail when REQUIRE_MYSQL=1 (CI)."""
    if mysql.required():
        pytest.fail(f"REQUIRE_MYSQL=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mysql_database() -> Iterator[str]:
    """A migrated utf8mb4 database of this run's own on the local MariaDB."""
    reason = mysql.unavailable_reason()
    if reason:
        skip_or_fail(reason)
    name = mysql.create_database()
    try:
        result = manage(service_env(**mysql.env_for(name)), "migrate", "--no-input")
        assert result.returncode == 0, result.stdout + result.stderr
        yield name
    finally:
        mysql.drop_database(name)


@pytest.fixture
def mysql_env(mysql_database: str) -> dict[str, str]:
    return mysql.env_for(mysql_database)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite(tmp_path_factory.mktemp("sqlite") / "template.sqlite3")


@pytest.fixture
def sqlite_env(sqlite_template: Path, tmp_path: Path) -> dict[str, str]:
    return {"SQLITE_PATH": str(migrated_sqlite(tmp_path / "db.sqlite3", sqlite_template))}


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def backend_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The DB_* environment of each supported backend in turn."""
    return request.getfixturevalue(f"{request.param}_env")


@pytest.fixture(scope="session")
def collected_static() -> None:
    """Static files collected as `make run` and the image build do: with DEBUG off the
    admin site and /docs name their files through the manifest collectstatic writes
    (without it every admin page is a 500)."""
    result = manage(service_env(), "collectstatic", "--no-input", "-v", "0")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def serve(tmp_path: Path, collected_static: None) -> Iterator[Callable[..., LiveServer]]:
    """Start real gunicorn servers: serve(env_overrides..., workers=N, app=None). Stopped after the test."""
    started: list[LiveServer] = []

    def start(workers: int = 1, app: str | None = None, **env: str | None) -> LiveServer:
        log_path = tmp_path / f"server-{len(started)}.log"
        server = LiveServer(service_env(WEB_CONCURRENCY=str(workers), **env), log_path, app=app)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
