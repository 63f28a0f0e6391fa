"""The machine's MariaDB on 127.0.0.1:3306: test databases and session control.

Each test run works in databases of its own (random names), so concurrent runs on
one machine never share tables.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

# The server the MySQL tests use; MYSQL_TEST_PORT lets a developer point them elsewhere
# (or at a closed port, to see the suite skip them with its reason).
HOST, USER, PASSWORD = "127.0.0.1", "root", ""
PORT = int(os.environ.get("MYSQL_TEST_PORT", "3306"))


def unavailable_reason() -> str | None:
    """None when MySQL tests can run; otherwise why not, in words."""
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        return "mysqlclient is not installed (make install-mysql, or see scripts/bootstrap.sh)"
    try:
        admin_connect().close()
    except Exception as exc:
        return f"no MySQL/MariaDB server at {HOST}:{PORT} as {USER} ({type(exc).__name__}: {exc})"
    return None


def required() -> bool:
    return os.environ.get("REQUIRE_MYSQL", "0") == "1"


def admin_connect(port: int = PORT, **kwargs: Any) -> Any:
    import MySQLdb

    return MySQLdb.connect(host=HOST, port=port, user=USER, password=PASSWORD, connect_timeout=5,
                           autocommit=True, **kwargs)


def execute(sql: str, args: tuple = (), port: int = PORT) -> list[tuple]:
    conn = admin_connect(port)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    finally:
        conn.close()


def create_database(prefix: str = "test_iai", port: int = PORT) -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", port=port)
    return name


def drop_database(name: str, port: int = PORT) -> None:
    execute(f"DROP DATABASE IF EXISTS `{name}`", port=port)


def sessions(database: str, port: int = PORT) -> list[int]:
    rows = execute("SELECT id FROM information_schema.processlist WHERE db = %s", (database,), port=port)
    return [row[0] for row in rows]


def kill_sessions(database: str, port: int = PORT) -> int:
    """KILL every session connected to `database`, as an operator or a failover would."""
    killed = 0
    for session_id in sessions(database, port):
        try:
            execute(f"KILL {int(session_id)}", port=port)
            killed += 1
        except Exception:
            continue
    return killed


def env_for(database: str, port: int = PORT) -> dict[str, str]:
    """The service's DB_* variables for a test database on the local server."""
    return {"DB_HOST": HOST, "DB_PORT": str(port), "DB_NAME": database, "DB_USER": USER,
            "DB_PASSWORD": PASSWORD, "DB_SSL_DISABLED": "true"}
