"""The `DATABASES` entry, built from the configuration.

Kept apart from settings so that `diagnose` and the tests build connection
parameters exactly as the running service does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infinityai.config import BASE_DIR, Config

# Debian's bundle; it holds DigiCert Global Root G2 and Microsoft RSA Root CA 2017,
# the roots Azure Database for MySQL certificates chain to since the 2025 rotation.
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

# https://docs.djangoproject.com/en/5.2/ref/databases/#mysql-sql-mode
SQL_MODE = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"


def tls_options(config: Config) -> dict[str, Any]:
    """mysqlclient TLS options. `ssl_mode` is always explicit: MariaDB Connector/C
    (Debian's client library) verifies nothing unless asked, and does not insist on
    TLS even when asked (`require_negotiated_tls` does)."""
    if config.DB_SSL_DISABLED:
        return {"ssl_mode": "DISABLED"}
    if config.DB_SSL_VERIFY:
        return {"ssl_mode": "VERIFY_IDENTITY", "ssl": {"ca": config.DB_SSL_CA or SYSTEM_CA_BUNDLE}}
    if config.DB_SSL_CA:
        return {"ssl_mode": "REQUIRED", "ssl": {"ca": config.DB_SSL_CA}}
    return {"ssl_mode": "REQUIRED"}


# libmariadb's own words when verification is on and the server offers no TLS; the
# same words (and code 2026, CR_SSL_CONNECTION_ERROR) for the case it lets through.
TLS_NOT_OFFERED = "SSL is required, but the server does not support it"


def session_cipher(connection: Any) -> str:
    """The TLS cipher of a MySQLdb session; empty when it is plain TCP."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        row = cursor.fetchone()
    return row[1] if row and row[1] else ""


def require_negotiated_tls(connection: Any, ssl_mode: str | None) -> str:
    """The session's cipher; raise unless TLS is in use or was turned off by choice
    (the caller closes the connection).

    MariaDB Connector/C (the client library on Debian and in the image) takes
    `ssl_mode=REQUIRED` as "TLS if the server offers it": against a server without
    TLS it signs in over plain TCP and says nothing; only verification makes it
    refuse. So each new session is asked for its cipher, one round trip per
    connection (connections are kept, `DB_CONN_MAX_AGE`), and a plain one is refused
    as the library refuses it when verifying.
    """
    if ssl_mode in (None, "DISABLED"):
        return ""
    cipher = session_cipher(connection)
    if cipher:
        return cipher
    import MySQLdb

    raise MySQLdb.OperationalError(2026, f"{TLS_NOT_OFFERED} (the session came up unencrypted)")


def mysql_options(config: Config) -> dict[str, Any]:
    return {
        "charset": "utf8mb4",
        "connect_timeout": config.DB_CONNECT_TIMEOUT,
        "read_timeout": config.DB_READ_TIMEOUT,
        "write_timeout": config.DB_WRITE_TIMEOUT,
        "init_command": f"SET sql_mode='{SQL_MODE}'",
        **tls_options(config),
    }


def sqlite_path(config: Config) -> Path:
    path = Path(config.SQLITE_PATH)
    return path if path.is_absolute() else BASE_DIR / path


def databases(config: Config) -> dict[str, dict[str, Any]]:
    common = {
        "CONN_MAX_AGE": config.DB_CONN_MAX_AGE,
        # Test a reused connection before each request, so the first request after
        # a database restart reconnects instead of failing.
        "CONN_HEALTH_CHECKS": True,
    }
    if not config.uses_mysql:
        return {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_path(config), **common}}
    return {
        "default": {
            "ENGINE": "infinityai.mysql_backend",
            "HOST": config.DB_HOST,
            "PORT": config.DB_PORT,
            "NAME": config.DB_NAME,
            "USER": config.DB_USER,
            "PASSWORD": config.DB_PASSWORD,
            "OPTIONS": mysql_options(config),
            "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
            **common,
        }
    }
