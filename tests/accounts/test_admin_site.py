"""The admin site's sign-in behind App Service's TLS front end, with CSRF enforced."""

from __future__ import annotations

import re
from http import HTTPStatus

import bcrypt
import pytest

from tests.support.accounts import ADMIN, ADMIN_PASSWORD, AdminBrowser, create_users, fallback_env, unique

HOST = "infinityai-backend-app.azurewebsites.net"

pytestmark = pytest.mark.usefixtures("collected_static")


def assert_signed_in(browser: AdminBrowser, reply) -> None:
    assert reply.status == HTTPStatus.FOUND, reply.body[:2000]
    assert reply.header("Location") == "/admin/"
    index = browser.get("/admin/")
    assert index.status == HTTPStatus.OK
    assert b"InfinityAI administration" in index.body
    assert b"/admin/accounts/user/" in index.body


def test_database_superuser_signs_in_to_the_admin_site(start, accounts_env) -> None:
    name = unique("root")
    create_users(accounts_env, {"username": name, "password": "admin-site-pw", "staff": True})
    server = start(WEBSITE_HOSTNAME=HOST)

    page = AdminBrowser(server, HOST).get("/admin/login/")
    stylesheet = re.search(rb'href="(/static/admin/css/[^"]+\.css)"', page.body).group(1).decode()
    css = server.get(stylesheet, headers={"Host": HOST, "Accept-Encoding": "gzip"})
    assert css.status == HTTPStatus.OK and css.header("Content-Type").startswith("text/css")

    refused = AdminBrowser(server, HOST).sign_in(name, "admin-site-pw", origin=False)
    assert refused.status == HTTPStatus.FORBIDDEN  # no Origin/Referer over HTTPS: CSRF refuses
    browser = AdminBrowser(server, HOST)
    assert_signed_in(browser, browser.sign_in(name, "admin-site-pw"))
    users = browser.get("/admin/accounts/user/")
    assert users.status == HTTPStatus.OK and name.encode() in users.body


def test_wrong_origin_is_refused(start, accounts_env) -> None:
    server = start(WEBSITE_HOSTNAME=HOST)
    browser = AdminBrowser(server, HOST)
    page = browser.get("/admin/login/")
    assert page.status == HTTPStatus.OK
    reply = server.post("/admin/login/", body=b"username=x&password=y",
                        headers={**browser.headers(), "Origin": "https://evil.example",
                                 "Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == HTTPStatus.FORBIDDEN


def test_fallback_admin_signs_in_and_its_session_ends_when_the_hash_changes(serve, sqlite_env) -> None:
    env = {**sqlite_env, "BCRYPT_ROUNDS": "4", "WEBSITE_HOSTNAME": HOST}
    first = serve(**env, **fallback_env())
    browser = AdminBrowser(first, HOST)
    assert_signed_in(browser, browser.sign_in(ADMIN, ADMIN_PASSWORD))
    first.stop()

    same = serve(**env, **fallback_env())
    browser.server = same
    assert browser.get("/admin/").status == HTTPStatus.OK  # a restart alone keeps the session
    same.stop()

    rotated = bcrypt.hashpw(b"rotated-password", bcrypt.gensalt(4)).decode()
    for changed in (fallback_env(rotated), fallback_env(ALLOW_FALLBACK_LOGIN="false")):
        server = serve(**env, **changed)
        browser.server = server
        reply = browser.get("/admin/")
        assert reply.status == HTTPStatus.FOUND and "/admin/login/" in reply.header("Location")
        server.stop()


def test_fallback_admin_cannot_use_the_admin_site_form_while_a_real_user_has_its_name(start, accounts_env) -> None:
    name = unique("boss")
    create_users(accounts_env, {"username": name, "password": "real-user-pw", "staff": True})
    server = start(WEBSITE_HOSTNAME=HOST, **fallback_env(ADMIN_USERNAME=name))
    browser = AdminBrowser(server, HOST)
    reply = browser.sign_in(name, ADMIN_PASSWORD)
    assert reply.status == HTTPStatus.OK  # the form again, with an error
    assert b"Please enter the correct username and password" in reply.body


def test_the_admin_login_form_is_under_the_same_lockout(start, accounts_env) -> None:
    name = unique("mallory")
    create_users(accounts_env, {"username": name, "password": "the-right-one", "staff": True})
    server = start(WEBSITE_HOSTNAME=HOST, LOGIN_FAILURES_PER_USER="2", LOGIN_FAILURES_PER_CLIENT="0")
    browser = AdminBrowser(server, HOST)
    for _ in range(2):
        assert browser.sign_in(name, "guess").status == HTTPStatus.OK  # the form again
    locked = browser.sign_in(name, "the-right-one")
    assert locked.status == HTTPStatus.TOO_MANY_REQUESTS
    assert int(locked.header("Retry-After")) > 0
    # The count is shared with POST /login.
    from tests.support.accounts import login

    assert login(server, name, "the-right-one").status == HTTPStatus.TOO_MANY_REQUESTS
