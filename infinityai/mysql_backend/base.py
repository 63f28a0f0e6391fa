"""The `DatabaseWrapper` Django loads for `ENGINE = "infinityai.mysql_backend"`."""

from __future__ import annotations

import contextlib
from typing import Any

from django.db.backends.mysql import base

from infinityai.database import refuse_plain_server, require_negotiated_tls
from infinityai.mysql_backend import waiters


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(waiters.execute_wrapper)

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        with waiters.place():
            refuse_plain_server(conn_params)
            connection = super().get_new_connection(conn_params)
            try:
                require_negotiated_tls(connection, conn_params.get("ssl_mode"))
            except BaseException:
                with contextlib.suppress(Exception):  # the session may be gone already
                    connection.close()
                raise
            return connection

    def is_usable(self) -> bool:
        # Django also asks this from its request_started/finished signals, where an
        # exception would be a 500: with no place free, say "not usable" and let the
        # next query reconnect through a place (or be refused one).
        try:
            with waiters.place():
                return super().is_usable()
        except waiters.NoPlace:
            return False
