"""What every answer carries besides its body: security headers (probes too), no
`?format=` switch outside the schema, and an OPTIONS answer that shows no internals."""

from __future__ import annotations

import pytest

SECURITY = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy")


@pytest.fixture(scope="module")
def server(module_serve):
    return module_serve()


@pytest.mark.parametrize("path", ["/ready", "/health", "/api/ready/", "/api/health"])
def test_probes_carry_the_security_headers_of_other_routes(server, path: str) -> None:
    reference = server.get("/")
    probe = server.get(path)
    assert probe.status == 200
    assert reference.header("X-Content-Type-Options") == "nosniff"
    for name in SECURITY:
        assert probe.header(name) == reference.header(name), name
        assert probe.header(name), name


@pytest.mark.parametrize("path", ["/health?format=xml", "/ready?format=api", "/?format=json"])
def test_format_query_parameter_changes_nothing(server, path: str) -> None:
    """DRF's `?format=` renderer switch is off: a query parameter a route does not take is ignored."""
    reply = server.get(path)
    assert reply.status == 200, reply.body
    assert reply.header("Content-Type") == "application/json"


def test_schema_keeps_its_format_parameter(server) -> None:
    assert server.get("/api/schema?format=yaml").body.startswith(b"openapi:")
    assert server.get("/api/schema?format=json").body.startswith(b"{")


@pytest.mark.parametrize("path", ["/login", "/api/auth/refresh", "/health", "/"])
def test_options_shows_no_docstring_or_fields(server, path: str) -> None:
    reply = server.request("OPTIONS", path)
    assert reply.status == 200
    body = reply.json()
    assert set(body) == {"renders", "parses"}, body
    assert "application/json" in body["renders"]
    assert reply.header("Allow")


def test_diagnostics_documents_its_503(server) -> None:
    schema = server.get("/api/schema").json()
    responses = schema["paths"]["/api/ops/diagnostics"]["get"]["responses"]
    assert "503" in responses and "fallback admin" in responses["503"]["description"]


@pytest.mark.parametrize("path", ["/ready", "/health", "/", "/api/schema", "/no-such-route", "/login"])
def test_head_answers_like_get_without_a_body_or_a_log_line(server, path: str) -> None:
    """Uptime monitors probe with HEAD. gunicorn logged a WARNING for every HEAD whose
    response carried a body (Django sends one); the answer is GET's status and headers only."""
    before = server.log().count("no-body response")
    get, head = server.get(path), server.request("HEAD", path)
    assert head.status == get.status, (path, head.status, get.status)
    assert head.body == b""
    assert head.header("Content-Type") == get.header("Content-Type")
    assert server.log().count("no-body response") == before, server.log()[-2000:]
