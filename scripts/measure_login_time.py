#!/usr/bin/env python3
"""Time POST /login against one bare bcrypt.checkpw at the same cost, side by side.

    .venv/bin/python scripts/measure_login_time.py --url http://127.0.0.1:8000 \
        --username admin --password 'secret' --hash "$ADMIN_PASSWORD_HASH" [-n 20]

Each round does one login over HTTP and one `bcrypt.checkpw(password, hash)` in this
process, alternately, so both see the same machine load; prints the medians and the
difference (what the service adds to the hash: HTTP, Django, token signing).
Use successful credentials: failures count towards the lockout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import bcrypt


def login_once(url: str, username: str, password: str) -> float:
    body = urllib.parse.urlencode({"username": username, "password": password}).encode()
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(f"{url}/login", data=body), timeout=30) as resp:  # noqa: S310
        payload = json.load(resp)
    elapsed = time.perf_counter() - started
    if "access_token" not in payload:
        raise SystemExit(f"login did not return a token: {sorted(payload)}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--hash", required=True, help="a bcrypt hash at the cost to compare with")
    parser.add_argument("-n", type=int, default=20)
    args = parser.parse_args()
    hashed, password = args.hash.encode(), args.password.encode()
    cost = int(args.hash.split("$")[2])

    try:
        login_once(args.url, args.username, args.password)  # warm-up: connections, imports
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"login failed: {exc.code} {exc.read()[:200]!r}") from None
    logins, checks = [], []
    for _ in range(args.n):
        logins.append(login_once(args.url, args.username, args.password))
        started = time.perf_counter()
        bcrypt.checkpw(password, hashed)
        checks.append(time.perf_counter() - started)
    login_ms, check_ms = statistics.median(logins) * 1000, statistics.median(checks) * 1000
    print(f"bcrypt cost {cost}, {args.n} rounds")
    for label, samples in (("POST /login", logins), ("bcrypt.checkpw", checks)):
        print(f"{label:<20} median {statistics.median(samples) * 1000:8.1f} ms  "
              f"(min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f})")
    print(f"login minus checkpw  {login_ms - check_ms:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
