"""CORS from CORS_ALLOW_ORIGINS: what is accepted at start, and what a browser is told."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from infinityai.config import ConfigError, load
from tests.support.servers import manage, service_env

BASE = {"ENV_FILE": "", "SECRET_KEY": "k" * 32}
FRONTEND = "https://www.infinityai.pro"
# As an operator might paste it: spaces, quotes, a trailing slash, capitals, a default port.
PASTED = " 'https://infinityai.pro/' , \"HTTPS://WWW.InfinityAI.pro:443\" ,"


def origins(raw: str) -> list[str]:
    return load({**BASE, "CORS_ALLOW_ORIGINS": raw}).CORS_ALLOW_ORIGINS


@pytest.mark.parametrize(("raw", "expected"), [
    ("https://infinityai.pro/", ["https://infinityai.pro"]),
    ("'https://infinityai.pro'", ["https://infinityai.pro"]),
    ('"https://infinityai.pro/"', ["https://infinityai.pro"]),
    ("  https://infinityai.pro  ,  https://www.infinityai.pro ", ["https://infinityai.pro", FRONTEND]),
    ("HTTPS://InfinityAI.Pro:443", ["https://infinityai.pro"]),
    ("http://localhost:3000/,http://localhost:80", ["http://localhost:3000", "http://localhost"]),
    ("https://infinityai.pro,https://infinityai.pro/", ["https://infinityai.pro"]),
    ("http://127.0.0.1:5173,http://[::1]:5173", ["http://127.0.0.1:5173", "http://[::1]:5173"]),
    ("", []),
    (" , ,", []),
])
def test_origins_are_normalised_to_what_browsers_send(raw: str, expected: list[str]) -> None:
    assert origins(raw) == expected


def test_unset_means_no_cross_origin_access() -> None:
    assert load(BASE).CORS_ALLOW_ORIGINS == []


@pytest.mark.parametrize(("entry", "says"), [
    ("infinityai.pro", "has no scheme: write https://infinityai.pro"),
    ("www.infinityai.pro:8443", "has no scheme: write https://www.infinityai.pro:8443"),
    ("*", "wildcard"),
    ("https://infinityai.pro/app", "no path"),
    ("ftp://infinityai.pro", "http or https"),
    ("https://", "not an origin"),
])
def test_a_bad_entry_stops_the_start_naming_variable_and_entry(entry: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        origins(f"https://ok.example,{entry}")
    (problem,) = caught.value.problems
    assert problem.startswith(f"CORS_ALLOW_ORIGINS: entry {entry!r}") and says in problem


def test_pasted_origins_pass_django_cors_headers_system_check() -> None:
    """A trailing slash would make django-cors-headers' check abort `migrate`; normalised, it passes."""
    result = manage(service_env(CORS_ALLOW_ORIGINS=PASTED), "check", timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "corsheaders" not in result.stdout + result.stderr


@pytest.fixture(scope="module")
def server(module_serve):
    return module_serve(CORS_ALLOW_ORIGINS=PASTED)


def preflight(server, origin: str, path: str = "/login", method: str = "POST"):
    return server.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type"})


def header_list(value: str | None) -> set[str]:
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


@pytest.mark.parametrize("path", ["/login", "/api/login/", "/api/auth/me", "/api/ops/diagnostics"])
@pytest.mark.parametrize("origin", ["https://infinityai.pro", FRONTEND])
def test_preflight_from_an_allowed_origin(server, origin: str, path: str) -> None:
    """The frontend may send Authorization and Content-Type, without credentials mode."""
    reply = preflight(server, origin, path)
    assert reply.status == HTTPStatus.OK
    assert reply.header("Access-Control-Allow-Origin") == origin
    assert {"authorization", "content-type", "x-request-id"} <= header_list(
        reply.header("Access-Control-Allow-Headers"))
    assert {"get", "post"} <= header_list(reply.header("Access-Control-Allow-Methods"))
    assert reply.header("Access-Control-Allow-Credentials") is None
    assert int(reply.header("Access-Control-Max-Age")) > 0


@pytest.mark.parametrize("origin", ["https://evil.example", "http://infinityai.pro", "https://infinityai.pro.evil.example",
                                    "null"])
def test_preflight_from_another_origin_is_not_allowed(server, origin: str) -> None:
    reply = preflight(server, origin)
    assert reply.header("Access-Control-Allow-Origin") is None
    assert reply.header("Access-Control-Allow-Headers") is None


@pytest.mark.parametrize(("path", "status"), [
    ("/api/", HTTPStatus.OK), ("/api/health", HTTPStatus.OK), ("/health", HTTPStatus.OK),
    ("/api/nope", HTTPStatus.NOT_FOUND),
])
def test_responses_tell_an_allowed_origin_it_may_read_them(server, path: str, status: int) -> None:
    """Answers and errors alike, probes included: the frontend can read X-Request-ID and Retry-After."""
    reply = server.get(path, headers={"Origin": FRONTEND})
    assert reply.status == status
    assert reply.header("Access-Control-Allow-Origin") == FRONTEND
    assert {"x-request-id", "retry-after", "www-authenticate"} <= header_list(
        reply.header("Access-Control-Expose-Headers"))
    assert "origin" in header_list(reply.header("Vary"))


def test_responses_to_another_origin_carry_no_permission(server) -> None:
    reply = server.get("/api/", headers={"Origin": "https://evil.example"})
    assert reply.status == HTTPStatus.OK
    assert reply.header("Access-Control-Allow-Origin") is None


def test_empty_setting_allows_no_origin(module_serve) -> None:
    server = module_serve(CORS_ALLOW_ORIGINS="")
    assert preflight(server, FRONTEND).header("Access-Control-Allow-Origin") is None
    assert server.get("/api/", headers={"Origin": FRONTEND}).header("Access-Control-Allow-Origin") is None
