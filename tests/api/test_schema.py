"""GET /api/schema: a valid OpenAPI 3 document that lists every route the service serves."""

from __future__ import annotations

import json
import re
from http import HTTPStatus

import pytest
import yaml
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.exceptions import Resolver404
from drf_spectacular.validation import validate_schema

from infinityai.openapi import canonical_path

# CONTRACT §1, as the contract spells each route. A route the URLconf does not serve
# yet is reported as a skip that names it; once served, it must be documented here.
CONTRACT_ROUTES = [
    ("get", "/"), ("get", "/ready"), ("get", "/health"), ("post", "/login"),
    ("post", "/api/auth/refresh"), ("get", "/api/auth/me"), ("post", "/api/auth/logout"),
    ("get", "/api/ops/diagnostics"), ("get", "/metrics"), ("get", "/docs"), ("get", "/api/schema"),
]
ERROR_STATUSES = {"400", "401", "403", "404", "411", "413", "415", "429", "500", "503"}


@pytest.fixture(scope="module")
def server(module_serve):
    return module_serve()


@pytest.fixture(scope="module")
def schema(server) -> dict:
    reply = server.get("/api/schema")
    assert reply.status == HTTPStatus.OK
    assert reply.header("Content-Type").startswith("application/json")
    return reply.json()


def test_schema_is_valid_openapi_3(schema: dict) -> None:
    """Validated with drf-spectacular's own validator (the OpenAPI 3 JSON Schema)."""
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


@pytest.mark.parametrize(("query", "accept"), [
    ("?format=yaml", "*/*"), ("", "application/yaml"), ("", "application/vnd.oai.openapi"),
])
def test_schema_in_yaml_is_the_same_document(server, schema: dict, query: str, accept: str) -> None:
    reply = server.get(f"/api/schema{query}", headers={"Accept": accept})
    assert reply.status == HTTPStatus.OK
    assert "yaml" in reply.header("Content-Type") or "openapi" in reply.header("Content-Type")
    assert yaml.safe_load(reply.body) == schema


@pytest.mark.parametrize("path", ["/schema", "/api/schema/", "/api/schema?format=json"])
def test_schema_answers_at_every_spelling(server, schema: dict, path: str) -> None:
    reply = server.get(path)
    assert reply.status == HTTPStatus.OK and json.loads(reply.body) == schema


def served(path: str) -> bool:
    try:
        get_resolver().resolve(path)
    except Resolver404:
        return False
    return True


@pytest.mark.parametrize(("method", "path"), CONTRACT_ROUTES)
def test_every_contract_route_is_documented(schema: dict, method: str, path: str) -> None:
    if not served(path):
        pytest.skip(f"{method.upper()} {path} is not served yet (CONTRACT §1)")
    assert method in schema["paths"].get(path, {}), f"{method.upper()} {path} missing from /api/schema"


def url_paths(patterns: list, prefix: str = "") -> list[str]:
    """Every path the URLconf routes, as written in its patterns (admin and static aside)."""
    found = []
    for pattern in patterns:
        text = prefix + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            found += url_paths(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern):
            found.append("/" + re.sub(r"/\?\$$|\$$", "", text))
    return [p for p in found if not p.startswith(("/admin/", "/static/"))]


def test_every_served_route_is_documented(schema: dict) -> None:
    """A route added to urls.py without its documentation fails here."""
    missing = sorted({canonical_path(p) for p in url_paths(get_resolver().url_patterns)} - set(schema["paths"]))
    assert not missing, f"routes served but missing from /api/schema: {missing}"


def test_every_operation_documents_its_errors(schema: dict) -> None:
    """Each operation names its error statuses, each with the JSON envelope (and 401/429/503 their headers)."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "500" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "411", "413", "415"} <= set(responses), (method, path)
            for status in ERROR_STATUSES & set(responses):
                content = responses[status]["content"]["application/json"]["schema"]
                assert "$ref" in content or "properties" in content, (method, path, status)
            for status, header in (("401", "WWW-Authenticate"), ("429", "Retry-After")):
                if status in responses:
                    assert header in responses[status]["headers"], (method, path, status)
    envelope = schema["components"]["schemas"]["Error"]
    assert envelope["required"] == ["detail"]


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_health_documents_its_answers(schema: dict) -> None:
    health = schema["paths"]["/health"]["get"]
    assert {"200", "503"} <= set(health["responses"])
    fields = resolve(schema, health["responses"]["200"]["content"]["application/json"]["schema"])["properties"]
    assert set(fields) == {"status", "database", "timestamp", "version", "service", "latency_ms"}
    assert resolve(schema, fields["database"])["enum"] == ["connected", "timeout", "error", "disconnected"]


def test_login_takes_a_form_or_json_and_tokens_are_bearer(schema: dict) -> None:
    """What the React app sends (a form) and what scripts send (JSON), and how to use the answer."""
    login = schema["paths"]["/login"]["post"]
    assert set(login["requestBody"]["content"]) == {
        "application/x-www-form-urlencoded", "multipart/form-data", "application/json"}
    fields = resolve(schema, login["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"])
    assert set(fields["required"]) == {"username", "password"}
    assert {"200", "400", "411", "413", "415", "429", "503"} <= set(login["responses"])
    schemes = schema["components"]["securitySchemes"]
    me = schema["paths"]["/api/auth/me"]["get"]
    (requirement,) = me["security"]
    (name,) = requirement
    assert schemes[name] == {**schemes[name], "type": "http", "scheme": "bearer"}
    metrics = schema["paths"]["/metrics"]["get"]["security"]
    assert metrics == [{"metricsToken": []}] and schemes["metricsToken"]["scheme"] == "bearer"


def test_schema_library_is_loaded_by_the_first_schema_request_not_at_start(sqlite_env: dict[str, str]) -> None:
    """drf-spectacular costs each worker about 1.4 MiB (docs/PERFORMANCE.md), and most
    workers never serve /api/schema or /docs: a worker that has answered probes and
    sign-ins has not imported it, and the schema it then serves still documents every
    route, the sign-in routes' extensions (accounts/openapi.py) included."""
    from tests.support.servers import manage, service_env

    code = """if True:
        import json, sys
        from django.test import Client
        client = Client(headers={"host": "localhost"})
        assert client.get("/ready").status_code == 200
        assert client.post("/login", {"username": "nobody", "password": "wrong"}).status_code == 400
        loaded = sorted(m for m in sys.modules if m.startswith("drf_spectacular.")
                        and m not in ("drf_spectacular.apps", "drf_spectacular.checks"))
        schema = client.get("/api/schema").json()
        print(json.dumps({"loaded_before": loaded, "paths": sorted(schema["paths"]),
                          "login": schema["paths"]["/login"]["post"].get("summary"),
                          "docs": schema["paths"]["/docs"]["get"].get("summary"),
                          "schemes": sorted(schema["components"]["securitySchemes"])}))
    """
    result = manage(service_env(**sqlite_env), "shell", "-c", code)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["loaded_before"] == []
    assert {"/api/schema", "/docs", "/login", "/api/auth/me"} <= set(found["paths"])
    assert found["login"] == "Sign in: a bearer token pair"  # accounts/openapi.py
    assert found["docs"] == "Swagger UI (an HTML page)"  # infinityai/schema_views.py
    assert found["schemes"] == ["bearer", "metricsToken"]
