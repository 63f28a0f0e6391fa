"""Helpers for sign-in tests: users in a real database, logins as browsers and scripts send them."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import urlencode

import bcrypt

from tests.support.servers import LiveServer, Reply, manage, service_env

ADMIN = "admin"
ADMIN_PASSWORD = "fallback-Pa55!"
ADMIN_HASH = bcrypt.hashpw(ADMIN_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
INCORRECT = {"detail": "Incorrect username or password"}

_CREATE = """
import json, os
from django.contrib.auth import get_user_model
User = get_user_model()
for u in json.loads(os.environ["NEW_USERS"]):
    User.objects.create_user(u["username"], u.get("email", ""), u["password"],
                             is_staff=u.get("staff", False), is_superuser=u.get("staff", False))
"""


def unique(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def fallback_env(password_hash: str = ADMIN_HASH, **extra: str) -> dict[str, str]:
    return {"ALLOW_FALLBACK_LOGIN": "true", "ADMIN_USERNAME": ADMIN, "ADMIN_PASSWORD_HASH": password_hash, **extra}


def create_users(db_env: dict[str, str], *users: dict[str, Any]) -> None:
    """Real rows, made by the service's own code (hasher included) in the test's database."""
    env = service_env(**{**db_env, "BCRYPT_ROUNDS": "4"}, NEW_USERS=json.dumps(list(users)))
    result = manage(env, "shell", "-c", _CREATE)
    assert result.returncode == 0, result.stdout + result.stderr


def encode(fields: dict[str, str], kind: str) -> tuple[bytes, dict[str, str]]:
    """A request body as a browser form (form), a file-upload form (multipart) or a script (json) sends it."""
    if kind == "json":
        return json.dumps(fields).encode(), {"Content-Type": "application/json"}
    if kind == "form":
        return urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    boundary = secrets.token_hex(8)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in fields.items()]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def login(server: LiveServer, username: str, password: str, kind: str = "form", path: str = "/login",
          headers: dict[str, str] | None = None) -> Reply:
    body, hdrs = encode({"username": username, "password": password}, kind)
    return server.post(path, body=body, headers={**hdrs, **(headers or {})})


def bearer(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def me(server: LiveServer, token: str, scheme: str = "Bearer") -> Reply:
    return server.get("/api/auth/me", headers=bearer(token, scheme))


def post_json(server: LiveServer, path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
    body, hdrs = encode(fields, "json")
    return server.post(path, body=body, headers={**hdrs, **(headers or {})})


def assert_tokens(reply: Reply) -> dict[str, Any]:
    assert reply.status == 200, reply.body
    body = reply.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 1800
    assert reply.header("Cache-Control") == "no-store"
    return body


class AdminBrowser:
    """The admin site's login form as a browser behind App Service uses it: cookies,
    CSRF token, `X-Forwarded-Proto: https` and the public host as Host and Origin."""

    def __init__(self, server: LiveServer, host: str) -> None:
        self.server = server
        self.host = host
        self.cookies: dict[str, str] = {}

    def headers(self, origin: bool = True) -> dict[str, str]:
        hdrs = {"Host": self.host, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9:50123"}
        if origin:
            hdrs["Origin"] = f"https://{self.host}"
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return hdrs

    def _keep_cookies(self, reply: Reply) -> None:
        for name, value in re.findall(r"(csrftoken|sessionid)=([^;]*)", reply.header("Set-Cookie") or ""):
            self.cookies[name] = value

    def get(self, path: str) -> Reply:
        reply = self.server.get(path, headers=self.headers(origin=False))
        self._keep_cookies(reply)
        return reply

    def sign_in(self, username: str, password: str, origin: bool = True) -> Reply:
        page = self.get("/admin/login/?next=/admin/")
        assert page.status == 200, page.body[:500]
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
        body = urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password,
                          "next": "/admin/"}).encode()
        reply = self.server.post("/admin/login/?next=/admin/", body=body,
                                 headers={**self.headers(origin), "Content-Type": "application/x-www-form-urlencoded"})
        self._keep_cookies(reply)
        return reply


def post_large(server: LiveServer, path: str, body: bytes, content_type: str) -> Reply:
    """POST a large body the way curl and browsers do: keep reading while sending, and
    stop sending when the server answers early (a 413 is sent before the body is read)."""
    import select
    import socket
    import time

    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    sock.sendall(head)
    view, sent, received = memoryview(body), 0, b""
    try:
        while time.monotonic() - started < 15:
            sending = [sock] if sent < len(body) else []
            readable, writable, _ = select.select([sock], sending, [], 1)
            if readable:
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                received += chunk
                sent = len(body)  # an answer arrived: send no more
            elif writable:
                try:
                    sent += sock.send(view[sent:sent + 65536])
                except (BrokenPipeError, ConnectionResetError):
                    sent = len(body)
    finally:
        sock.close()
    header_block, _, payload = received.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        decoded = b""
        while payload:
            size_line, _, rest = payload.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            decoded, payload = decoded + rest[:size], rest[size + 2:]
        payload = decoded
    return Reply(status, headers, payload, time.monotonic() - started)
