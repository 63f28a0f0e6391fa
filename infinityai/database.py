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
    (Debian's client library) neither requires nor verifies TLS unless asked."""
    if config.DB_SSL_DISABLED:
        return {"ssl_mode": "DISABLED"}
    if config.DB_SSL_VERIFY:
        return {"ssl_mode": "VERIFY_IDENTITY", "ssl": {"ca": config.DB_SSL_CA or SYSTEM_CA_BUNDLE}}
    if config.DB_SSL_CA:
        return {"ssl_mode": "REQUIRED", "ssl": {"ca": config.DB_SSL_CA}}
    return {"ssl_mode": "REQUIRED"}


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
            "ENGINE": "django.db.backends.mysql",
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
