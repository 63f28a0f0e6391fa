"""Fixtures for the API-as-clients-see-it tests: real servers shared by a module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.servers import LiveServer, manage, migrated_sqlite, service_env


@pytest.fixture(scope="session")
def collected_static() -> None:
    """Static files collected as `make run` and the image do: with DEBUG off the admin
    and /docs name their files through the manifest that collectstatic writes."""
    result = manage(service_env(), "collectstatic", "--no-input", "-v", "0")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def module_serve(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path,
                 collected_static: None) -> Iterator[Callable[..., LiveServer]]:
    """Like `serve`, but the servers live for the whole module, each on a migrated SQLite
    copy of its own: read-only checks need not pay a server start each."""
    started: list[LiveServer] = []
    folder = tmp_path_factory.mktemp("api-servers")

    def start(**env: str | None) -> LiveServer:
        n = len(started)
        database = migrated_sqlite(folder / f"db-{n}.sqlite3", sqlite_template)
        server = LiveServer(service_env(SQLITE_PATH=str(database), **env), folder / f"server-{n}.log")
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
