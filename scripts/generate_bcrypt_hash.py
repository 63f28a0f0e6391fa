#!/usr/bin/env python3
"""Print a bcrypt hash for ADMIN_PASSWORD_HASH (runbook section 4).

    python scripts/generate_bcrypt_hash.py 'YourPassword'    # as the runbook shows
    python scripts/generate_bcrypt_hash.py                   # asks, without echo: stays out of shell history

bcrypt reads at most 72 bytes of a password and ignores the rest silently, so a longer
password (counted in UTF-8: 37 x 'é' is 74 bytes) is refused instead of hashed in part.
Exit status: 0 printed, 2 refused or bad arguments.
"""

from __future__ import annotations

import argparse
import getpass
import sys

MAX_BYTES = 72
# Each step doubles the work: cost 12 takes about 0.25 s, 16 about 4 s, 31 days. The
# service refuses a hash above 15 (accounts/fallback.py), so none is made here.
MIN_COST, MAX_COST = 4, 15


def hash_password(password: str, cost: int) -> str:
    import bcrypt

    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=cost)).decode("ascii")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print a bcrypt hash for ADMIN_PASSWORD_HASH.")
    parser.add_argument("password", nargs="?", help="the password (omit it to be asked without echo)")
    parser.add_argument("--cost", type=int, default=12,
                        help=f"bcrypt cost factor, {MIN_COST} to {MAX_COST} (default 12)")
    args = parser.parse_args(argv)
    if not MIN_COST <= args.cost <= MAX_COST:
        parser.error(f"--cost must be between {MIN_COST} and {MAX_COST}: each step doubles the time of "
                     f"every sign-in, and the service refuses a hash above {MAX_COST}")  # exits 2

    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            print("generate_bcrypt_hash: no password given and no terminal to ask on; run it as "
                  "`python scripts/generate_bcrypt_hash.py 'YourPassword'` or from a terminal.", file=sys.stderr)
            return 2
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Again: ")
        except (EOFError, KeyboardInterrupt):
            print("\ngenerate_bcrypt_hash: no password read; nothing printed.", file=sys.stderr)
            return 2
        if again != password:
            print("generate_bcrypt_hash: the two passwords differ; nothing printed.", file=sys.stderr)
            return 2
    if not password:
        print("generate_bcrypt_hash: the password is empty; nothing printed.", file=sys.stderr)
        return 2
    size = len(password.encode("utf-8"))
    if size > MAX_BYTES:
        print(f"generate_bcrypt_hash: the password is {size} bytes in UTF-8; bcrypt uses only the first "
              f"{MAX_BYTES} and would ignore the rest. Choose one of at most {MAX_BYTES} bytes.", file=sys.stderr)
        return 2
    try:
        import bcrypt  # noqa: F401
    except ImportError:
        print("generate_bcrypt_hash: the bcrypt package is missing (pip install bcrypt, or run it with "
              ".venv/bin/python after `make run` or `make test`).", file=sys.stderr)
        return 2

    print(hash_password(password, args.cost))
    print("Set it as ADMIN_PASSWORD_HASH (GitHub secret or App Service setting). Mind the $ signs: this "
          "project's .env reader takes the value literally, but Docker Compose needs each $ written as $$, "
          "and a shell needs the value in single quotes.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
