"""Real servers for tests: gunicorn started exactly as `make run` and the container do.

Requests go through http.client rather than a client library so that tests can send
any Host header and any bytes, as probes and hostile clients do.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PYTHON = BIN / "python"

# Recognisable values: a test that finds one in output has found a leak.
SENTINEL_SECRET_KEY = "sentinel-secret-key-5f1e0c9d2b7a4e3f8a6b1c0d9e8f7a6b"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(**overrides: str | None) -> dict[str, str]:
    """A clean environment for the service: nothing inherited but PATH and HOME.
    An override of None removes the variable."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "ENV_FILE": "",
        "SECRET_KEY": SENTINEL_SECRET_KEY,
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def migrated_sqlite(path: Path, template: Path | None = None) -> Path:
    """A migrated SQLite file at `path` (copied from `template` when given: migrating costs seconds)."""
    if template is not None:
        shutil.copyfile(template, path)
        return path
    result = manage(service_env(SQLITE_PATH=str(path)), "migrate", "--no-input")
    assert result.returncode == 0, result.stdout + result.stderr
    return path


def stop_group(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM a server's whole process group (master and workers), SIGKILL after `grace` s."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def request(port: int, method: str, path: str, body: bytes | str | None = None,
            headers: dict[str, str] | None = None, timeout: float = 15, host: str = "127.0.0.1") -> Reply:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    hdrs = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    if isinstance(body, str):
        body = body.encode()
    started = time.monotonic()
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in hdrs.items():
            conn.putheader(name, value)
        if body is not None and "Content-Length" not in hdrs:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data,
                     time.monotonic() - started)
    finally:
        conn.close()


@dataclass
class LiveServer:
    """gunicorn -c gunicorn.conf.py with a given environment, on a free port."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    app: str | None = None  # another WSGI application than gunicorn.conf.py's

    def start(self, wait: float = 30) -> LiveServer:
        env = {**self.env, "APP_PORT": str(self.port)}
        self._log = open(self.log_path, "ab")
        args = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", *([self.app] if self.app else [])]
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if self.get("/ready", timeout=2).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not become ready in {wait}s:\n{self.log()}")

    def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        return request(self.port, method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def all_pids(self) -> list[int]:
        assert self.proc is not None
        return [self.proc.pid, *self.worker_pids()]

    @staticmethod
    def threads(pid: int) -> int:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
        raise AssertionError("no Threads line")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_group(self.proc)
        self._log.close()
        self.proc = None

    def __enter__(self) -> LiveServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
