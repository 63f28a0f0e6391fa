"""Fixtures for the sign-in tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.servers import LiveServer, free_port


@pytest.fixture
def accounts_env(backend_env: dict[str, str]) -> dict[str, str]:
    """A database of each backend, with test-cost bcrypt."""
    return {**backend_env, "BCRYPT_ROUNDS": "4"}


@pytest.fixture
def start(serve: Callable[..., LiveServer], accounts_env: dict[str, str]) -> Callable[..., LiveServer]:
    """Start a server on the test's database with extra settings."""

    def run(**env: str | None) -> LiveServer:
        return serve(**{**accounts_env, **env})

    return run


class RedisServer:
    """A private redis-server on a free port: the shared one on 6379 is never stopped."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ping = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
            if ping.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("private redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    import shutil

    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    server = RedisServer(tmp_path)
    yield server
    server.stop()


