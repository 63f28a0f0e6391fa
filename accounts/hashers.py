"""bcrypt (over SHA-256, so passwords longer than 72 bytes count whole) at the cost
BCRYPT_ROUNDS sets: 12 in production, 4 in tests, from one code path."""

from django.conf import settings
from django.contrib.auth import hashers


class BCryptSHA256PasswordHasher(hashers.BCryptSHA256PasswordHasher):
    @property
    def rounds(self) -> int:  # type: ignore[override]
        return settings.BCRYPT_ROUNDS
