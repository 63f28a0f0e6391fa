"""Login lockout: too many failed sign-ins for one user name or one client address.

Only failures count (a user who types their password right is never slowed);
each scope counts in a fixed window of LOGIN_LOCKOUT_SECONDS that starts at the
first failure, and the lockout ends with the window (that is the Retry-After).
A success clears the user name's count, not the address's. Each attempt is counted
before its password is checked (`attempt`), so simultaneous guesses cannot pass the
limit together. Keys are hashes, so
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


def attempt(username: str, client: str) -> int | None:
    """Count this sign-in as a failure before any password is checked; seconds to wait
    if that puts a user name or address over its limit (the count is then taken back),
    else None. `not_a_failure` takes it back once the attempt turns out otherwise.

    Counting first, atomically, is what makes the limit hold under concurrency: a
    check before and a count after let every request already in flight through (12
    simultaneous guesses all answered 400 with a limit of 3)."""
    counted: list[str] = []
    waits: list[int] = []
    now = clock()
    for scope, value in _pairs(username, client):
        count_key, until_key = scope.keys(value)
        cache.add(until_key, now + scope.window, scope.window)
        counted.append(count_key)
        if cache.increment(count_key, scope.window) > scope.limit:
            until = cache.get(until_key)
            waits.append(max(1, math.ceil(until - now)) if until is not None else scope.window)
    if not waits:
        return None
    for key in counted:
        cache.decrement(key)
    return max(waits)


def not_a_failure(username: str, client: str) -> None:
    """The attempt counted by `attempt` did not fail: the database was away (nobody's
    password was checked)."""
    for scope, value in _pairs(username, client):
        cache.decrement(scope.keys(value)[0])


def succeeded(username: str, client: str) -> None:
    """A success clears the user name's count and takes back the address's count for it."""
    clear_user(username)
    _, client_scope = scopes()
    if client_scope.limit > 0:
        cache.decrement(client_scope.keys(client)[0])


def _pairs(username: str, client: str) -> list[tuple[Scope, str]]:
    user_scope, client_scope = scopes()
    return [(s, v) for s, v in ((user_scope, user_key(username)), (client_scope, client)) if s.limit > 0]


def clear_user(username: str) -> None:
    user_scope, _ = scopes()
    cache.delete_many(list(user_scope.keys(user_key(username))))
