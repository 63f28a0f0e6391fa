"""A private MariaDB server started by a test, to stop, restart, freeze or require TLS.

The machine's shared server on 3306 is never stopped or frozen: other runs use it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.support import mysql
from tests.support.servers import free_port


class MariaDBInstance:
    def __init__(self, base: Path, extra_args: tuple[str, ...] = ()) -> None:
        self.base = base
        self.datadir = base / "data"
        self.port = free_port()
        self.extra_args = extra_args
        self.proc: subprocess.Popen | None = None
        self.frozen = False
        if not shutil.which("mariadbd") or not shutil.which("mariadb-install-db"):
            raise RuntimeError("mariadbd / mariadb-install-db not found (Debian package mariadb-server)")
        # A temporary directory of its own: in the shared /tmp, two servers bootstrapping
        # at once can collide on a temporary table's file name ("Unknown table
        # 'mysql.tmp_user_sys'", seen under load).
        self.tmpdir = base / "tmp"
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}", f"--tmpdir={self.tmpdir}",
                        "--auth-root-authentication-method=normal", "--skip-test-db", "--user=root"],
                       check=True, capture_output=True, timeout=60)

    def start(self, wait: float = 30) -> MariaDBInstance:
        args = ["mariadbd", "--no-defaults", f"--datadir={self.datadir}", f"--tmpdir={self.tmpdir}",
                f"--port={self.port}", "--bind-address=127.0.0.1", f"--socket={self.base / 'sock'}",
                f"--pid-file={self.base / 'pid'}", "--user=root", "--skip-log-bin",
                "--innodb-buffer-pool-size=32M", "--character-set-server=utf8mb4", *self.extra_args]
        log = open(self.base / "server.log", "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.base / "server.log").read_text()[-2000:])
            try:
                self.execute("SELECT 1")
                return self
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("private MariaDB did not start")

    def execute(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Run one statement as root (a subclass may connect differently, e.g. over TLS)."""
        return mysql.execute(sql, args, port=self.port)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.thaw()
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def restart(self, down_for: float = 0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def freeze(self) -> None:
        """SIGSTOP: connections stay open, nothing answers (a hang mid-query)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if self.frozen and self.proc is not None:
            os.kill(self.proc.pid, signal.SIGCONT)
        self.frozen = False
