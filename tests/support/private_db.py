"""A private MariaDB with the service's database migrated and a password user.

Drills stop, freeze and reconfigure this server, never the shared one on 3306.
The service connects as a user with a recognisable password, so that a drill can
prove the password never reaches a log line or a response.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from tests.support.mariadb import MariaDBInstance
from tests.support.servers import manage, service_env

DB_NAME = "infinityai_drill"
DB_USER = "iai_service"


@dataclass
class PrivateDatabase:
    instance: MariaDBInstance
    name: str
    user: str
    password: str

    def env(self, port: int | None = None, **extra: str) -> dict[str, str]:
        """The service's DB_* variables; `port` points it elsewhere (a proxy)."""
        return {"DB_HOST": "127.0.0.1", "DB_PORT": str(port or self.instance.port), "DB_NAME": self.name,
                "DB_USER": self.user, "DB_PASSWORD": self.password, "DB_SSL_DISABLED": "true", **extra}

    def status(self, name: str) -> int:
        """A global status counter, e.g. Connections (opened since start, failed ones included)."""
        rows = self.instance.execute("SHOW GLOBAL STATUS LIKE %s", (name,))
        return int(rows[0][1])

    def sessions(self) -> list[int]:
        rows = self.instance.execute("SELECT id FROM information_schema.processlist WHERE user = %s", (self.user,))
        return [row[0] for row in rows]

    def kill_sessions(self) -> int:
        """KILL every session of the service's user, as an operator or a failover would."""
        killed = 0
        for session_id in self.sessions():
            try:
                self.instance.execute(f"KILL {int(session_id)}")
                killed += 1
            except Exception:  # the session ended by itself meanwhile
                continue
        return killed


def provision(instance: MariaDBInstance, **migrate_env: Any) -> PrivateDatabase:
    """Create the database and the service's user on `instance`, and migrate."""
    password = f"drill-db-pw-{secrets.token_hex(8)}"
    instance.execute(f"CREATE DATABASE IF NOT EXISTS `{DB_NAME}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    for host in ("127.0.0.1", "localhost", "%"):
        instance.execute("CREATE OR REPLACE USER %s@%s IDENTIFIED BY %s", (DB_USER, host, password))
        instance.execute(f"GRANT ALL PRIVILEGES ON `{DB_NAME}`.* TO %s@%s", (DB_USER, host))
    db = PrivateDatabase(instance, DB_NAME, DB_USER, password)
    result = manage(service_env(**db.env(**migrate_env)), "migrate", "--no-input")
    assert result.returncode == 0, result.stdout + result.stderr
    return db
