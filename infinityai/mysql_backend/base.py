"""The `DatabaseWrapper` Django loads for `ENGINE = "infinityai.mysql_backend"`."""

from __future__ import annotations

import functools
from typing import Any

from django.db.backends.mysql import base

from infinityai.database import open_session
from infinityai.mysql_backend import waiters


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(waiters.execute_wrapper)

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        with waiters.place():
            connect = functools.partial(base.DatabaseWrapper.get_new_connection, self, conn_params)
            connection, _cipher = open_session(connect, conn_params)
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
