"""The API, the admin site and /docs in a real browser (Debian's chromium via Playwright).

The API runs in real gunicorn; a second loopback server plays the frontend's origin,
and the scripts below run in pages loaded from it, as the React app's do.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest

from tests.api.conftest import screenshot
from tests.support.servers import manage

pytestmark = pytest.mark.slow

SUPERUSER, SUPERUSER_PASSWORD = "root-admin", "correct horse battery staple 9"


@pytest.fixture(scope="module")
def api(module_serve, frontend):
    """The API, allowing the frontend's origin only (as written by an operator: with a slash)."""
    server = module_serve(CORS_ALLOW_ORIGINS=f" {frontend.origin}/ ")
    server.origin = f"http://127.0.0.1:{server.port}"
    return server


FETCH = """async ({url, init}) => {
    try {
        const response = await fetch(url, init);
        const headers = {};
        for (const name of ["x-request-id", "retry-after", "content-type"]) headers[name] = response.headers.get(name);
        return {status: response.status, headers, body: await response.text()};
    } catch (error) {
        return {error: String(error)};
    }
}"""


def browser_fetch(page, url: str, **init) -> dict:
    return page.evaluate(FETCH, {"url": url, "init": init})


def test_frontend_origin_reads_answers_after_a_preflight(page, api, frontend) -> None:
    """From the allowed origin, a request with Authorization (preflighted) gets through and is readable."""
    page.goto(frontend.origin)
    answer = browser_fetch(page, f"{api.origin}/api/health",
                           headers={"Authorization": "Bearer not-needed-here", "X-Request-ID": "browser-1"})
    assert "error" not in answer, answer
    assert answer["status"] == HTTPStatus.OK
    assert '"database":"connected"' in answer["body"]
    error = browser_fetch(page, f"{api.origin}/api/nope")
    assert error["status"] == HTTPStatus.NOT_FOUND and error["body"] == '{"detail": "Not Found"}'


def test_another_origin_is_blocked(page, api, other_site) -> None:
    """From an origin not in CORS_ALLOW_ORIGINS, the browser refuses the script the answer."""
    page.goto(other_site.origin)
    simple = browser_fetch(page, f"{api.origin}/api/")
    assert simple == {"error": "TypeError: Failed to fetch"}
    preflighted = browser_fetch(page, f"{api.origin}/api/health", headers={"Authorization": "Bearer x"})
    assert preflighted == {"error": "TypeError: Failed to fetch"}


def test_docs_render_swagger_ui_from_local_assets(page, api) -> None:
    """/docs shows every operation of the schema, and nothing is fetched from outside."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{api.origin}/docs")
    operations = page.locator(".opblock")
    operations.first.wait_for(timeout=15_000)
    schema = api.get("/api/schema").json()
    expected = sum(len(item) for item in schema["paths"].values())
    assert operations.count() == expected
    assert "InfinityAI backend API" in page.locator(".info .title").inner_text()
    assert page.locator(".opblock-summary-path", has_text="/api/schema").count() == 1
    assert page.escaped == []
    assert all(url.startswith(api.origin) for url in requested), requested
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in url for url in requested)
    screenshot(page, "docs")


@pytest.fixture(scope="module")
def superuser(api) -> str:
    result = manage({**api.env, "DJANGO_SUPERUSER_PASSWORD": SUPERUSER_PASSWORD}, "createsuperuser",
                    "--no-input", "--username", SUPERUSER, "--email", "root@example.com")
    assert result.returncode == 0, result.stdout + result.stderr
    return SUPERUSER


def sign_in_to_admin(page, api, username: str, password: str) -> None:
    page.goto(f"{api.origin}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{api.origin}/admin/")


def assert_admin_styled(page) -> None:
    """The admin's stylesheet applied: the header has its colour, not the browser default."""
    header = page.locator("#header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(65, 118, 144)"
    assert page.locator("#content").evaluate("e => getComputedStyle(e).paddingTop") != "0px"


def test_admin_sign_in_as_database_superuser(page, api, superuser: str) -> None:
    sign_in_to_admin(page, api, superuser, SUPERUSER_PASSWORD)
    assert_admin_styled(page)
    page.click("a[href='/admin/accounts/user/']")
    page.wait_for_url(f"{api.origin}/admin/accounts/user/")
    assert page.locator("#result_list").get_by_text(superuser).count() == 1
    assert page.escaped == []
    screenshot(page, "admin-users-database-superuser")
