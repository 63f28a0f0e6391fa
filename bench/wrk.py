"""The load generator: wrk from Debian, installed when missing, loopback only."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("wrk_report.lua")


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package first when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if not shutil.which("apt-get"):
        raise SystemExit("bench: wrk is missing and there is no apt-get to install it (install wrk)")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("bench: installing wrk from Debian", flush=True)
    for args in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        result = subprocess.run([*sudo, *args], env=env, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise SystemExit(f"bench: could not install wrk ({' '.join(args)}):\n{result.stderr[-2000:]}")
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench: wrk still missing after apt-get install wrk")
    return found


@dataclass(frozen=True)
class WrkResult:
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    http_errors: int  # responses with status >= 400 (wrk's "Non-2xx or 3xx")
    socket_errors: int  # connect, read and write errors and timeouts

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WrkRun:
    """A wrk process started in the background, so that two can run side by side."""

    proc: subprocess.Popen
    connections: int

    def wait(self) -> WrkResult:
        out, err = self.proc.communicate(timeout=120)
        line = next((line for line in out.splitlines() if line.startswith("BENCH_JSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no result:\n{out[-2000:]}\n{err[-2000:]}")
        raw = json.loads(line.removeprefix("BENCH_JSON "))
        seconds = raw["duration_us"] / 1e6
        return WrkResult(
            connections=self.connections,
            seconds=round(seconds, 2),
            requests=raw["requests"],
            rps=round(raw["requests"] / seconds, 1) if seconds else 0.0,
            p50_ms=round(raw["p50_us"] / 1000, 2),
            p99_ms=round(raw["p99_us"] / 1000, 2),
            max_ms=round(raw["max_us"] / 1000, 2),
            http_errors=raw["non2xx"],
            socket_errors=raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"],
        )


def start(wrk: str, port: int, path: str, *, connections: int, seconds: int, method: str = "GET",
          body: str = "", timeout: int = 10, close: bool = False) -> WrkRun:
    """`close`: a new connection per request (wrk keeps connections alive otherwise)."""
    env = {**os.environ, "BENCH_METHOD": method, "BENCH_BODY": body}
    args = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s", "-s", str(SCRIPT),
            *(["-H", "Connection: close"] if close else []), f"http://127.0.0.1:{port}{path}"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return WrkRun(proc, connections)


def run(wrk: str, port: int, path: str, **kwargs: Any) -> WrkResult:
    return start(wrk, port, path, **kwargs).wait()
