"""The client's address: one answer for the logs and for the login throttle.

Behind App Service the TCP peer (REMOTE_ADDR) is the front end; the client is the
entry the front end appended to `X-Forwarded-For`, counted from the right by
TRUSTED_PROXY_COUNT. Entries further left are whatever the client chose to send,
so they are never believed. App Service writes the entry with the client's port
(`203.0.113.5:54321`); the port is dropped, else every connection would count as a
new client. An entry that is not an IP address (`not-an-ip<script>`) is never
used: the answer falls back to REMOTE_ADDR, so nothing a client types reaches a
log line or a throttle key.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "unknown"


def strip_port(entry: str) -> str:
    entry = entry.strip()
    if entry.startswith("["):  # [2001:db8::1]:443
        return entry[1:].split("]", 1)[0]
    if entry.count(":") == 1:  # 203.0.113.5:54321
        return entry.split(":", 1)[0]
    return entry  # plain IPv4 or IPv6


def parse_ip(entry: str | None) -> str | None:
    """`entry` as an IP address without its port, or None if it is not one."""
    if not entry:
        return None
    try:
        return str(ipaddress.ip_address(strip_port(entry)))
    except ValueError:
        return None


def from_headers(forwarded_for: str | None, remote_addr: str | None, trusted_proxies: int | None = None) -> str | None:
    """The address TRUSTED_PROXY_COUNT proxies vouch for, else the TCP peer; None if neither is an IP."""
    trusted = settings.TRUSTED_PROXY_COUNT if trusted_proxies is None else trusted_proxies
    peer = parse_ip(remote_addr)
    entries = [e for e in (forwarded_for or "").split(",") if e.strip()]
    if trusted <= 0 or not entries:
        return peer
    candidate = entries[-trusted] if len(entries) >= trusted else entries[0]
    return parse_ip(candidate) or peer


def client_address(request: HttpRequest) -> str:
    """The request's client address, or "unknown" (one throttle count for all such requests)."""
    return from_headers(request.META.get("HTTP_X_FORWARDED_FOR"), request.META.get("REMOTE_ADDR")) or UNKNOWN
