"""The client's address, as the throttle counts it.

Behind App Service the TCP peer is the front end; the client is the entry the
front end appended to `X-Forwarded-For`, counted from the right (entries further
left are whatever the client chose to send). App Service writes it with the
client's port (`203.0.113.5:54321`); the port is dropped, otherwise every
connection would count as a new client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def strip_port(entry: str) -> str:
    entry = entry.strip()
    if entry.startswith("["):  # [2001:db8::1]:443
        return entry[1:].split("]", 1)[0]
    if entry.count(":") == 1:  # 203.0.113.5:54321
        return entry.split(":", 1)[0]
    return entry  # plain IPv4 or IPv6


def parse_ip(entry: str) -> str | None:
    try:
        return str(ipaddress.ip_address(strip_port(entry)))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The address `TRUSTED_PROXY_COUNT` proxies vouch for, else the TCP peer."""
    peer = request.META.get("REMOTE_ADDR") or "unknown"
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted <= 0 or not forwarded:
        return parse_ip(peer) or peer
    entries = [e for e in forwarded.split(",") if e.strip()]
    if not entries:
        return parse_ip(peer) or peer
    candidate = entries[-trusted] if len(entries) >= trusted else entries[0]
    return parse_ip(candidate) or parse_ip(peer) or peer
