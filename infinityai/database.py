"""The `DATABASES` entry, built from the configuration.

Kept apart from settings so that `diagnose` and the tests build connection
parameters exactly as the running service does.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from infinityai.config import BASE_DIR, Config, sqlite_file

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
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        row = cursor.fetchone()
    cipher = row[1] if row and row[1] else ""
    if cipher:
        return cipher
    import MySQLdb

    raise MySQLdb.OperationalError(2026, f"{TLS_NOT_OFFERED} (the session came up unencrypted)")


CLIENT_OPTIONS_FILE = BASE_DIR / "infinityai" / "mysql_backend" / "client.cnf"
CLIENT_SSL = 0x0800  # the server's capability flag: it can switch to TLS

AUTH_METHOD_REFUSED = ("the server asked for a sign-in method outside restricted_auth "
                       "(infinityai/mysql_backend/client.cnf), such as mysql_clear_password")
HANDSHAKE_LOST = "Lost connection to server at 'handshake: reading initial communication packet'"


def open_session(connect: Callable[[], Any], params: Mapping[str, Any]) -> tuple[Any, str]:
    """A new MySQLdb connection made by `connect(**params)`, held to the TLS settings,
    and its cipher. Both the service's backend and `diagnose` connect through here.

    - With TLS required, the server's greeting is read first (`refuse_plain_server`).
    - A refused sign-in method (restricted_auth, error 5010) is raised afresh:
      libmariadb can word that error in bytes that are not UTF-8, and mysqlclient then
      leaves a NULL in the exception's arguments, which crashes the process (a
      segmentation fault) as soon as anything reads the message.
    - A session that came up plain anyway is closed (`require_negotiated_tls`).
    """
    import MySQLdb

    refuse_plain_server(params)
    refused_method = False
    try:
        connection = connect()
    except MySQLdb.OperationalError as exc:
        if not (exc.args and exc.args[0] == 5010):
            raise
        refused_method = True  # raised below, outside this block, so the broken error is not chained
    if refused_method:
        raise MySQLdb.OperationalError(5010, AUTH_METHOD_REFUSED)
    try:
        cipher = require_negotiated_tls(connection, params.get("ssl_mode"))
    except BaseException:
        with contextlib.suppress(Exception):  # the session may be gone already
            connection.close()
        raise
    return connection, cipher


def refuse_plain_server(params: Mapping[str, Any]) -> None:
    """With `ssl_mode=REQUIRED`, read the server's greeting before signing in, and raise
    unless it offers TLS.

    The client library would otherwise sign in over plain TCP (the user name and the
    password's challenge response in the clear), and `require_negotiated_tls` could
    only refuse the session afterwards. The greeting is the first thing a MySQL server
    sends; nothing of ours is sent to read it. Anything but a greeting offering TLS
    is an error here, worded as the driver words it, and the driver is never called:
    a first connection that fails must not let a second, plain one sign in. (An
    active attacker can still answer the two connections differently; only
    DB_SSL_VERIFY=true stops that.)
    """
    if params.get("ssl_mode") != "REQUIRED" or params.get("host") in (None, "", "localhost"):
        return  # TLS off by choice, verified by the library itself, or a local socket
    import MySQLdb

    host, port = params["host"], int(params.get("port") or 3306)
    timeout = float(params.get("connect_timeout") or 10)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        raise MySQLdb.OperationalError(2005, f"Unknown server host '{host}' ({exc.errno})") from None
    except TimeoutError:
        raise MySQLdb.OperationalError(2003, f"Can't connect to server on '{host}' (110)") from None
    except OSError as exc:
        raise MySQLdb.OperationalError(2003, f"Can't connect to server on '{host}' ({exc.errno or 0})") from None
    with sock:
        try:
            header = _read_exactly(sock, 4)
            greeting = _read_exactly(sock, int.from_bytes(header[:3], "little")) if header else b""
        except TimeoutError:
            raise MySQLdb.OperationalError(2013, f"{HANDSHAKE_LOST}, system error: 110") from None
        except OSError:
            greeting = b""
    if greeting[:1] == b"\xff" and len(greeting) >= 3:  # the server refused us (too many connections...)
        raise MySQLdb.OperationalError(int.from_bytes(greeting[1:3], "little"),
                                       greeting[3:].decode("utf-8", "replace"))
    offers = _greeting_offers_tls(greeting)
    if offers is None:
        raise MySQLdb.OperationalError(2013, f"{HANDSHAKE_LOST}, system error: 0 (no MySQL greeting)")
    if not offers:
        raise MySQLdb.OperationalError(2026, f"{TLS_NOT_OFFERED} (seen in its greeting; nothing was sent)")


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return b""
        data += chunk
    return data


def _greeting_offers_tls(greeting: bytes) -> bool | None:
    """CLIENT_SSL in a protocol-10 greeting; None if it is not one (an error packet,
    something that is not MySQL)."""
    if not greeting or greeting[0] != 10:
        return None
    end = greeting.find(b"\0", 1)
    flags_at = end + 1 + 4 + 8 + 1  # server version, connection id, first scramble part, filler
    if end < 0 or len(greeting) < flags_at + 2:
        return None
    return bool(int.from_bytes(greeting[flags_at:flags_at + 2], "little") & CLIENT_SSL)


def mysql_options(config: Config) -> dict[str, Any]:
    return {
        "read_default_file": str(CLIENT_OPTIONS_FILE),
        "read_default_group": "infinityai",
        "charset": "utf8mb4",
        "connect_timeout": config.DB_CONNECT_TIMEOUT,
        "read_timeout": config.DB_READ_TIMEOUT,
        "write_timeout": config.DB_WRITE_TIMEOUT,
        "init_command": f"SET sql_mode='{SQL_MODE}'",
        **tls_options(config),
    }


def sqlite_path(config: Config) -> Path:
    return sqlite_file(config.SQLITE_PATH)


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
