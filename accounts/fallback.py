"""The fallback admin: an administrator defined by environment variables.

It exists for the night the database is unreachable: its password is checked
against a bcrypt hash from the environment and its tokens carry everything
needed to verify them, so neither step touches the database. Its identity is
bound to a *fingerprint* of the current fallback settings (an HMAC, keyed with
the token signing key, over the user name and the hash). Tokens, the admin-site
user row and sessions all carry that fingerprint, so turning the fallback off or
changing the hash revokes everything it ever issued at once, without a database
write and on every instance.

Settings that are present but unusable (no hash, a hash that is not bcrypt or costs
over 15, a plaintext password bcrypt cannot hash) leave the fallback off: the service still
starts, one ERROR names the variable at start, and `status()` says why (for
diagnostics). The values themselves are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import bcrypt
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt.models import TokenUser

log = logging.getLogger("accounts.fallback")

BCRYPT_HASH = re.compile(r"^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$")
BCRYPT_MAX_BYTES = 72
# Each cost step doubles a check's time (12: about 0.25 s; 16: about 4 s): a higher cost
# would make every sign-in, and every guess, hold a worker thread for seconds.
BCRYPT_MAX_COST = 15
# Marks the admin-site user row that belongs to the fallback admin. It starts with
# "!", Django's prefix for an unusable password, so no password ever matches it.
ROW_MARKER_PREFIX = "!fallback:"
SOURCE = "fallback"


def clean_hash(raw: str) -> str:
    """Strip what env files and copy-paste add: surrounding spaces and quotes."""
    # A bcrypt hash never starts or ends with a quote, so even a lone one is noise.
    return raw.strip().strip("'\"").strip()


@dataclass(frozen=True)
class FallbackAdmin:
    enabled: bool
    username: str = ""
    password_hash: bytes = b""
    fingerprint: str = ""
    # Why a requested fallback is off (names the variable, never its value).
    problem: str | None = None

    def claims(self, username: str) -> bool:
        """Whether `username` is the fallback admin's (constant time)."""
        return self.enabled and hmac.compare_digest(username.encode(), self.username.encode())

    def check_password(self, password: str) -> bool:
        """Exactly one bcrypt computation, whatever the password.

        bcrypt 5 refuses passwords over 72 bytes with ValueError; such a
        password cannot be the admin's (the hash could not have been made from
        it whole), but it still costs one hash so that its timing says nothing.
        """
        raw = password.encode("utf-8", "surrogatepass")
        try:
            if len(raw) > BCRYPT_MAX_BYTES:
                bcrypt.checkpw(raw[:BCRYPT_MAX_BYTES], self.password_hash)
                return False
            return bcrypt.checkpw(raw, self.password_hash)
        except ValueError:
            return False

    @property
    def row_marker(self) -> str:
        return f"{ROW_MARKER_PREFIX}{self.fingerprint}"

    def owns_fingerprint(self, fingerprint: object) -> bool:
        return (self.enabled and isinstance(fingerprint, str)
                and hmac.compare_digest(fingerprint.encode(), self.fingerprint.encode()))


def _fingerprint(username: str, secret_material: bytes) -> str:
    mac = salted_hmac("infinityai.accounts.fallback", username.encode() + b"\0" + secret_material,
                      secret=settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="sha256")
    return mac.hexdigest()[:32]


def build(options: dict[str, Any]) -> FallbackAdmin:
    """The fallback admin described by settings.FALLBACK_LOGIN, or a disabled one and why."""
    if not options.get("ENABLED"):
        return FallbackAdmin(enabled=False)
    username = options.get("USERNAME") or ""
    if not username.strip():
        return FallbackAdmin(enabled=False, problem="ADMIN_USERNAME is empty")
    raw_hash = clean_hash(options.get("PASSWORD_HASH") or "")
    plaintext = options.get("PASSWORD") or ""
    if raw_hash:
        if not BCRYPT_HASH.match(raw_hash):
            return FallbackAdmin(enabled=False, problem="ADMIN_PASSWORD_HASH is not a bcrypt hash "
                                 "($2a$, $2b$ or $2y$, cost, 53 characters of salt and digest)")
        cost = int(raw_hash[4:6])
        if cost > BCRYPT_MAX_COST:
            return FallbackAdmin(enabled=False, problem=f"ADMIN_PASSWORD_HASH has bcrypt cost {cost}, above "
                                 f"{BCRYPT_MAX_COST}: each sign-in would take seconds (make one with "
                                 "scripts/generate_bcrypt_hash.py, cost 12 by default)")
        password_hash = raw_hash.encode()
        material = password_hash
    elif plaintext:
        if len(plaintext.encode()) > BCRYPT_MAX_BYTES:
            return FallbackAdmin(enabled=False, problem="ADMIN_PASSWORD is longer than bcrypt's 72 bytes")
        # Hashed once per process, so checking it costs what checking a hash costs.
        password_hash = bcrypt.hashpw(plaintext.encode(), bcrypt.gensalt(settings.BCRYPT_ROUNDS))
        material = b"plain:" + hashlib.sha256(plaintext.encode()).digest()
    else:
        return FallbackAdmin(enabled=False, problem="ADMIN_PASSWORD_HASH is empty "
                             "(make one with scripts/generate_bcrypt_hash.py)")
    return FallbackAdmin(enabled=True, username=username, password_hash=password_hash,
                         fingerprint=_fingerprint(username, material))


@cache
def current() -> FallbackAdmin:
    return build(settings.FALLBACK_LOGIN)


@receiver(setting_changed)
def _forget(setting: str, **kwargs: Any) -> None:
    if setting in ("FALLBACK_LOGIN", "SIMPLE_JWT", "BCRYPT_ROUNDS"):
        current.cache_clear()


def status() -> dict[str, Any]:
    """For diagnostics: whether the fallback is on, and why not when it was asked for."""
    admin = current()
    return {"requested": bool(settings.FALLBACK_LOGIN.get("ENABLED")), "enabled": admin.enabled,
            "problem": admin.problem}


def report_at_start() -> None:
    admin = current()
    if admin.problem:
        log.error("fallback login is OFF although ALLOW_FALLBACK_LOGIN=true: %s", admin.problem)
    elif admin.enabled:
        log.warning("fallback login is ON for user %r: turn it off (ALLOW_FALLBACK_LOGIN=false) "
                    "once the database works", admin.username)


def is_fallback_row(user: Any) -> bool:
    """Whether a database user row was made for the fallback admin (not a real account)."""
    password = getattr(user, "password", None) or ""
    return password.startswith(ROW_MARKER_PREFIX)


class FallbackUser(TokenUser):
    """The fallback admin while no database row can carry it: staff, no database, no writes."""

    auth_source = SOURCE
    email = ""
    is_staff = True  # type: ignore[assignment]
    is_superuser = True  # type: ignore[assignment]

    def __init__(self, username: str) -> None:
        super().__init__({"user_id": f"fallback:{username}", "username": username})  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"fallback admin {self.username}"
