"""A private MariaDB that serves TLS and refuses any connection without it."""

from __future__ import annotations

from pathlib import Path

from tests.support import mysql
from tests.support.mariadb import MariaDBInstance
from tests.support.tls import Certificates


class TlsMariaDB(MariaDBInstance):
    """TLS with `certs` and require_secure_transport=ON; root, too, connects over TLS."""

    def __init__(self, base: Path, certs: Certificates) -> None:
        self.certs = certs
        super().__init__(base, extra_args=(f"--ssl-ca={certs.ca}", f"--ssl-cert={certs.server_cert}",
                                           f"--ssl-key={certs.server_key}", "--require-secure-transport=ON"))

    def execute(self, sql: str, args: tuple = ()) -> list[tuple]:
        conn = mysql.admin_connect(self.port, ssl_mode="REQUIRED", ssl={"ca": str(self.certs.ca)})
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()
