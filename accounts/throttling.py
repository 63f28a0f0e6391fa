"""Login lockout: too many failed sign-ins for one user name or one client address.

Only failures count (a user who types their password right is never slowed);
each scope counts in a fixed window of LOGIN_LOCKOUT_SECONDS that starts at the
first failure, and the lockout ends with the window (that is the Retry-After).
A success clears the user name's count, not the address's. Keys are hashes, so
user names never appear in Redis. Counting lives in the cache (accounts.cache),
never in the database: throttling keeps working while the database is down.
The user name is counted casefolded and without accents: MySQL's default collations
(utf8mb4_general_ci here) find `ALICE` and `alicé` as `alice`, so counting them apart
would let a locked-out name sign in by respelling it. Folding more than SQLite's
exact match costs nothing: failing as `alicé` could already be done as `alice`.
`clock` is replaceable so tests need not sleep.
"""

from __future__ import annotations

import hashlib
import math
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from accounts import cache

clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Scope:
    name: str
    limit: int
    window: int

    def keys(self, value: str) -> tuple[str, str]:
        digest = hashlib.sha256(f"{self.name}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()[:40]
        return f"login-fail:{digest}:n", f"login-fail:{digest}:until"


def user_key(username: str) -> str:
    """The user name as the lockout counts it: one count for every spelling the lookup finds."""
    decomposed = unicodedata.normalize("NFKD", username.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def scopes() -> tuple[Scope, Scope]:
    options = settings.LOGIN_THROTTLE
    window = options["WINDOW_SECONDS"]
    return Scope("user", options["FAILURES_PER_USER"], window), Scope("client", options["FAILURES_PER_CLIENT"], window)


def retry_after(username: str, client: str) -> int | None:
    """Seconds until a locked-out user name or address may try again, or None."""
    user_scope, client_scope = scopes()
    pairs = [(s, s.keys(v)) for s, v in ((user_scope, user_key(username)), (client_scope, client)) if s.limit > 0]
    if not pairs:
        return None
    values = cache.get_many([k for _, keys in pairs for k in keys])
    now = clock()
    waits = []
    for scope, (count_key, until_key) in pairs:
        count, until = values.get(count_key, 0), values.get(until_key)
        if count >= scope.limit and until is not None and until > now:
            waits.append(max(1, math.ceil(until - now)))
    return max(waits) if waits else None


def record_failure(username: str, client: str) -> None:
    user_scope, client_scope = scopes()
    for scope, value in ((user_scope, user_key(username)), (client_scope, client)):
        if scope.limit <= 0:
            continue
        count_key, until_key = scope.keys(value)
        cache.add(until_key, clock() + scope.window, scope.window)
        cache.increment(count_key, scope.window)


def clear_user(username: str) -> None:
    user_scope, _ = scopes()
    cache.delete_many(list(user_scope.keys(user_key(username))))
