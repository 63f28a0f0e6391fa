"""The `DatabaseWrapper` Django loads for `ENGINE = "infinityai.mysql_backend"`."""

from __future__ import annotations

import contextlib
from typing import Any

from django.db.backends.mysql import base

from infinityai.database import require_negotiated_tls


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        try:
            require_negotiated_tls(connection, conn_params.get("ssl_mode"))
        except BaseException:
            with contextlib.suppress(Exception):  # the session may be gone already
                connection.close()
            raise
        return connection
