"""Fixtures for the API-as-clients-see-it tests: real servers shared by a module."""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.support.servers import LiveServer, migrated_sqlite, service_env


@pytest.fixture(scope="module")
def module_serve(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path,
                 collected_static: None) -> Iterator[Callable[..., LiveServer]]:
    """Like `serve`, but the servers live for the whole module, each on a migrated SQLite
    copy of its own: read-only checks need not pay a server start each."""
    started: list[LiveServer] = []
    folder = tmp_path_factory.mktemp("api-servers")

    def start(**env: str | None) -> LiveServer:
        n = len(started)
        database = migrated_sqlite(folder / f"db-{n}.sqlite3", sqlite_template)
        server = LiveServer(service_env(SQLITE_PATH=str(database), **env), folder / f"server-{n}.log")
        started.append(server)
        return server.start()

    yield start
    with ThreadPoolExecutor(max(1, len(started))) as pool:  # each stop waits for its workers
        list(pool.map(LiveServer.stop, started))


# --- a real browser -------------------------------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium driven by Playwright (never Playwright's own download).
    Skipped with the reason when chromium is missing; a failure under REQUIRE_BROWSER=1 (CI)."""
    path = chromium_path()
    if path is None:
        reason = "chromium is not installed (scripts/bootstrap.sh test installs it with apt as root)"
        if os.environ.get("REQUIRE_BROWSER", "0") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context per test; requests that leave loopback are refused and
    recorded in `page.escaped`, so a page that needs the internet fails its test."""
    context = browser.new_context(color_scheme="light", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.escaped = []

    def guard(route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            page.escaped.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class StaticSite:
    """A second loopback HTTP server playing the frontend's origin: it serves one empty
    page, so scripts evaluated in it run with that origin, as the React app's do."""

    PAGE = b"<!doctype html><html><head><title>frontend</title></head><body>frontend</body></html>"

    def __init__(self) -> None:
        page = self.PAGE

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def frontend() -> Iterator[StaticSite]:
    site = StaticSite()
    yield site
    site.close()


@pytest.fixture(scope="module")
def other_site() -> Iterator[StaticSite]:
    site = StaticSite()
    yield site
    site.close()
