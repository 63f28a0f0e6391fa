"""Servers under measurement: every one is gunicorn with the project's own
gunicorn.conf.py and the same environment for workers and threads; only the WSGI
application differs (named on the command line, which wins over the file)."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.servers import stop_group  # one way to stop a server, shared with the tests

ROOT = Path(__file__).resolve().parents[1]
SERVICE_APP = "infinityai.wsgi:application"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_of(port: int, path: str, timeout: float = 5, method: str = "GET", body: str | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)


def proc_status(pid: int) -> dict[str, int]:
    """Threads and resident memory (kB) of one process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("Threads", "VmRSS"):
            fields[key] = int(value.split()[0])
    return fields


@dataclass
class Server:
    name: str
    app: str
    env: dict[str, str]
    log_path: Path
    bin_dir: Path
    port: int = 0
    proc: subprocess.Popen | None = None
    boot_seconds: float | None = None

    def start(self, wait: float = 60) -> Server:
        """Start and time it to the first 200 on /ready (polled every 10 ms)."""
        self.port = free_port()
        env = {**self.env, "APP_PORT": str(self.port)}
        self._log = open(self.log_path, "ab")
        started = time.monotonic()
        args = [str(self.bin_dir / "gunicorn"), "-c", "gunicorn.conf.py", self.app]
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = started + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if status_of(self.port, "/ready", timeout=2)[0] == 200:
                    self.boot_seconds = round(time.monotonic() - started, 3)
                    return self
            except OSError:
                pass
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /ready within {wait}s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return sorted(int(pid) for pid in children)

    def workers(self) -> list[dict[str, Any]]:
        """Per worker: pid, threads, RSS in MiB."""
        stats = []
        for pid in self.worker_pids():
            fields = proc_status(pid)
            stats.append({"pid": pid, "threads": fields["Threads"], "rss_mib": round(fields["VmRSS"] / 1024, 1)})
        return stats

    def log_errors(self) -> int:
        """Tracebacks in the server's log. A server that logs one per request is measured
        at a fraction of its speed (the access-log bug that made the baselines look slow)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return sum(line.startswith(("Traceback (most recent call last)", "--- Logging error ---"))
                   for line in text.splitlines())

    def cpu_seconds(self) -> float:
        """CPU time used by all workers so far (the master does not serve requests)."""
        return sum(cpu_seconds(pid) for pid in self.worker_pids())

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_group(self.proc)
        self._log.close()
        self.proc = None
