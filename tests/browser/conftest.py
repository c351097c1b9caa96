"""Browser tests: Debian's chromium driven by Playwright against the app served for real.

The app runs in a background thread (werkzeug's make_server on 127.0.0.1 and a free port)
against the test database, so the page, its scripts, the service worker and the JSON API
all meet over real HTTP. Without /usr/bin/chromium the tests are skipped with a notice, or
fail when CI is true (as the PostgreSQL half of the suite does).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_HINT = (
    f"browser tests need Debian's chromium at {CHROMIUM}: apt-get update && apt-get install -y chromium "
    "(never `playwright install`)"
)
REQUIRE_ALL = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Flags from /work/shared/guide/browser-tests.md: without the networking ones Chromium keeps
# trying to reach hosts this machine cannot reach.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


def pytest_report_header() -> list[str]:
    if chromium_available():
        return []
    return [("FAIL: " if REQUIRE_ALL else "SKIP: ") + CHROMIUM_HINT]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not chromium_available():
        if REQUIRE_ALL:
            pytest.fail(CHROMIUM_HINT)
        pytest.skip(CHROMIUM_HINT)
    from playwright.sync_api import expect, sync_playwright

    # The default 5 s is short on a 2-core machine that runs other test suites beside this one.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@dataclass
class LiveServer:
    app: Flask
    url: str


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """`app` served on 127.0.0.1 in a thread, for as long as the test runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
