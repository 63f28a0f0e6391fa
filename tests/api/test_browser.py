"""The API, the admin site and /docs in a real browser (Debian's chromium via Playwright).

The API runs in real gunicorn; a second loopback server plays the frontend's origin,
and the scripts below run in pages loaded from it, as the React app's do.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest

from tests.api.conftest import screenshot
from tests.support.accounts import ADMIN, ADMIN_PASSWORD, create_users, fallback_env
from tests.support.servers import manage

pytestmark = pytest.mark.slow

SUPERUSER, SUPERUSER_PASSWORD = "root-admin", "correct horse battery staple 9"
USER, USER_PASSWORD = "frontend-user", "frontend user password 7"


@pytest.fixture(scope="module")
def api(module_serve, frontend):
    """The API, allowing the frontend's origin only (as written by an operator: with a
    slash), with a database user and the fallback admin enabled."""
    server = module_serve(CORS_ALLOW_ORIGINS=f" {frontend.origin}/ ", BCRYPT_ROUNDS="4", **fallback_env())
    server.origin = f"http://127.0.0.1:{server.port}"
    create_users({"SQLITE_PATH": server.env["SQLITE_PATH"]},
                 {"username": USER, "password": USER_PASSWORD, "email": "user@example.com"})
    return server


# What the React app does: a form body (no preflight), then the bearer token (preflighted).
SIGN_IN_AND_ASK_WHO = """async ({api, username, password}) => {
    try {
        const signIn = await fetch(`${api}/login`, {method: "POST", body: new URLSearchParams({username, password})});
        const tokens = await signIn.json();
        const me = await fetch(`${api}/api/auth/me`, {headers: {Authorization: `Bearer ${tokens.access_token}`}});
        return {signIn: signIn.status, tokenType: tokens.token_type, me: me.status, who: await me.json(),
                requestId: me.headers.get("X-Request-ID")};
    } catch (error) {
        return {error: String(error)};
    }
}"""


def test_frontend_signs_in_with_a_form_and_uses_the_token(page, api, frontend) -> None:
    page.goto(frontend.origin)
    result = page.evaluate(SIGN_IN_AND_ASK_WHO, {"api": api.origin, "username": USER, "password": USER_PASSWORD})
    assert result["signIn"] == HTTPStatus.OK and result["tokenType"] == "bearer", result
    assert result["me"] == HTTPStatus.OK
    assert result["who"] == {"username": USER, "email": "user@example.com", "is_staff": False,
                             "auth_source": "database"}
    assert result["requestId"] and len(result["requestId"]) >= 16  # exposed to the page's script


def test_another_origin_cannot_read_a_sign_in(page, api, other_site) -> None:
    page.goto(other_site.origin)
    result = page.evaluate(SIGN_IN_AND_ASK_WHO, {"api": api.origin, "username": USER, "password": USER_PASSWORD})
    assert result == {"error": "TypeError: Failed to fetch"}


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
    # Swagger UI's own stylesheet applied (GET badges are its blue), not only its script.
    badge = page.locator(".opblock-get .opblock-summary-method").first
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(97, 175, 254)"
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


@pytest.mark.parametrize("who", ["database-superuser", "fallback-admin"])
def test_admin_sign_in_and_user_list(page, api, superuser: str, who: str) -> None:
    """Through the real login form; the user list opens, styled by the admin's own CSS."""
    username, password = (superuser, SUPERUSER_PASSWORD) if who == "database-superuser" else (ADMIN, ADMIN_PASSWORD)
    sign_in_to_admin(page, api, username, password)
    assert_admin_styled(page)
    assert username.upper() in page.locator("#user-tools").inner_text().upper()
    page.click("a[href='/admin/accounts/user/']")
    page.wait_for_url(f"{api.origin}/admin/accounts/user/")
    assert page.locator("#result_list").get_by_text(USER, exact=True).count() == 1
    assert_admin_styled(page)
    assert page.escaped == []
    screenshot(page, f"admin-users-{who}")


def test_docs_try_login_from_swagger_ui(page, api) -> None:
    """A frontend developer tries POST /login from /docs and sees the tokens."""
    page.goto(f"{api.origin}/docs")
    operation = page.locator(".opblock-post", has=page.locator(".opblock-summary-path", has_text="/login")).filter(
        has_not=page.locator(".opblock-summary-path", has_text="/api/auth/login")).first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("textarea.body-param__text").fill(
        f'{{"username": "{USER}", "password": "{USER_PASSWORD}"}}')
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    status.wait_for(timeout=15_000)
    assert status.inner_text().strip().startswith("200")
    assert '"token_type": "bearer"' in operation.locator(".live-responses-table .microlight").first.inner_text()
    assert page.escaped == []
    screenshot(page, "docs-try-login")
