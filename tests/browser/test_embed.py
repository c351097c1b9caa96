"""The widget on someone else's site, the iframe, the venue screen and offline reading, in Chromium.

The festival's page comes from a second server on http://localhost:PORT, so it is another
origin and another site than Signaal on http://127.0.0.1:PORT. It sends hostile CSS and a CSP
that forbids inline styles. The snippets are the ones the organisers' page writes.

SQLite only, like the other browser tests: the queries behind these pages run on both
databases in tests/feeds/test_embed_views.py.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from alerts.models import Alert
from tests.feeds.test_embed_views import publish, textareas

from .conftest import LiveServer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Everything a careless or hostile host stylesheet could do to an embedded box, !important and all.
HOSTILE_CSS = """
body * { color: red !important; font-size: 40px !important; font-family: serif !important;
         letter-spacing: 6px !important; text-transform: uppercase !important;
         background: yellow !important; display: inline !important; }
signaal-alerts { display: none !important; }
img { display: none !important; }
ul, li { list-style: square !important; margin: 50px !important; }
"""
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Zomerfeest 2027</title>
<link rel="stylesheet" href="/hostile.css"></head>
<body><h1>Zomerfeest 2027</h1><p>Line-up, tickets and the drug alerts for our region:</p>
{snippet}
<p>See you there.</p></body></html>"""


@dataclass
class HostSite:
    """The festival's own site: a page, its stylesheet and its CSP, on another origin."""

    url: str
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)
    csp: str = ""


@pytest.fixture
def host_site() -> Iterator[HostSite]:
    site = HostSite(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = site.pages.get(self.path)
            if found is None:
                self.send_error(404)
                return
            content_type, body = found
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Security-Policy", site.csp)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.url = f"http://localhost:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="host-site", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def alerts(live_server: LiveServer) -> dict[str, Alert]:
    return {
        "north": publish("Tesla pills in Noord-Holland", ["NL-NH"], level="red_alert", photo=True),
        "utrecht": publish("Grim Reaper in Utrecht", ["NL-UT"], level="warning"),
        "national": publish("Pink PMMA pills nationwide", ["NL"], level="caution"),
    }


@dataclass
class Visit:
    page: Page
    problems: list[str]
    requests: list[str]


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def visit(context: BrowserContext) -> Visit:
    """A page in `context` that records script errors, console errors (CSP reports) and requests."""
    page = context.new_page()
    seen = Visit(page, [], [])
    page.on("console", lambda m: seen.problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda error: seen.problems.append(f"script error: {error}"))
    context.on("request", lambda r: seen.requests.append(r.url))
    return seen


def snippets(server: LiveServer, region: str) -> dict[str, str]:
    """The snippets the organisers' page writes for `region`, in English."""
    page = requests.get(f"{server.url}/organisers", params={"region": region, "widget_lang": "en"}, timeout=30)
    page.raise_for_status()
    return textareas(page.text)


def serve_festival(site: HostSite, server: LiveServer, snippet: str) -> None:
    site.csp = (
        f"default-src 'self'; script-src 'self' {server.url}; connect-src {server.url}; img-src {server.url}; "
        f"frame-src {server.url}; style-src 'self'"
    )
    site.pages["/"] = ("text/html; charset=utf-8", HOST_PAGE.format(snippet=snippet))
    site.pages["/hostile.css"] = ("text/css", HOSTILE_CSS)


def shadow_style(page: Page, selector: str, *properties: str) -> dict[str, str]:
    return page.evaluate(
        """([selector, properties]) => {
          const found = document.querySelector("signaal-alerts").shadowRoot.querySelector(selector);
          const style = getComputedStyle(found);
          return Object.fromEntries(properties.map((name) => [name, style.getPropertyValue(name)]));
        }""",
        [selector, list(properties)],
    )


def test_the_widget_on_another_site_shows_the_regions_alerts_in_its_own_style(
    context: BrowserContext, live_server: LiveServer, host_site: HostSite, alerts: dict[str, Alert]
) -> None:
    snippet = snippets(live_server, "NL-NH")["snippet-script"]
    assert snippet.startswith(f'<a href="{live_server.url}/embed?region=NL-NH&amp;lang=en">')
    serve_festival(host_site, live_server, snippet)
    seen = visit(context)
    seen.page.clock.install()
    seen.page.goto(host_site.url)

    widget = seen.page.locator("signaal-alerts")
    items = widget.locator("li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Tesla pills in Noord-Holland")
    expect(items.nth(0)).to_contain_text("Red alert")
    expect(items.nth(0)).to_contain_text("Push: Tesla pills in Noord-Holland")
    expect(items.nth(1)).to_contain_text("Pink PMMA pills nationwide")
    expect(widget).not_to_contain_text("Grim Reaper")
    expect(widget.get_by_role("heading", name="Drug alerts for Noord-Holland")).to_be_visible()
    link = widget.get_by_role("link", name="Tesla pills in Noord-Holland")
    expect(link).to_have_attribute("href", f"{live_server.url}/alerts/{alerts['north'].id}?lang=en")
    thumb = widget.get_by_role("img", name="Photo of Tesla pills in Noord-Holland")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("(img) => img.complete && img.naturalWidth > 0")
    # The widget took the fallback link's place.
    assert seen.page.evaluate("document.querySelectorAll('a[href*=\"/embed?\"]').length") == 0

    # The host's !important rules reach neither the box nor anything in it.
    assert seen.page.evaluate("getComputedStyle(document.querySelector('signaal-alerts')).display") == "block"
    push = shadow_style(seen.page, ".push", "color", "font-size", "font-family", "letter-spacing", "text-transform")
    assert push == {
        "color": "rgb(26, 26, 26)",
        "font-size": "15px",
        "font-family": push["font-family"],
        "letter-spacing": "normal",
        "text-transform": "none",
    }
    assert push["font-family"].startswith("system-ui")
    assert shadow_style(seen.page, ".headline", "color")["color"] == "rgb(11, 79, 156)"
    assert shadow_style(seen.page, ".thumb", "display")["display"] == "block"
    assert shadow_style(seen.page, ".alerts", "list-style-type")["list-style-type"] == "none"

    # It refreshes itself: a new alert shows up within the minute, without a reload.
    publish("Blue Punisher in Amsterdam", ["GM0363"], level="warning")
    seen.page.clock.run_for(61_000)
    expect(items).to_have_count(3)
    expect(items.nth(1)).to_contain_text("Blue Punisher in Amsterdam")

    # No cookies, nothing from other hosts, no CSP violation (a blocked <style> would report one).
    assert context.cookies() == []
    origins = {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in seen.requests}
    assert origins == {host_site.url, live_server.url}
    assert seen.problems == []


def test_the_iframe_variant_renders_inside_the_host_page(
    context: BrowserContext, live_server: LiveServer, host_site: HostSite, alerts: dict[str, Alert]
) -> None:
    serve_festival(host_site, live_server, snippets(live_server, "NL-NH")["snippet-iframe"])
    seen = visit(context)
    seen.page.goto(host_site.url)

    frame = seen.page.frame_locator("iframe")
    expect(frame.get_by_role("heading", name="Drug alerts for Noord-Holland")).to_be_visible()
    expect(frame.locator("li")).to_have_count(2)
    expect(frame.get_by_role("link", name="Tesla pills in Noord-Holland")).to_be_visible()
    expect(frame.get_by_role("link", name="Pink PMMA pills nationwide")).to_be_visible()
    expect(frame.locator("body")).not_to_contain_text("Grim Reaper")
    assert frame.locator(".thumb").evaluate("(img) => img.naturalWidth > 0")
    assert context.cookies() == []
    assert seen.problems == []


def test_the_venue_screen_rotates_through_the_alerts(
    context: BrowserContext, live_server: LiveServer, alerts: dict[str, Alert]
) -> None:
    seen = visit(context)
    seen.page.set_viewport_size({"width": 1920, "height": 1080})
    seen.page.clock.install()
    seen.page.goto(f"{live_server.url}/screen?region=NL-NH&lang=en&seconds=10")

    first = seen.page.locator(".slide").nth(0)
    second = seen.page.locator(".slide").nth(1)
    expect(first).to_be_visible()
    expect(first.get_by_role("heading")).to_have_text("Tesla pills in Noord-Holland")
    expect(second).to_be_hidden()
    expect(seen.page.locator("[data-clock]")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    # Readable from a distance: the headline is about 6.5% of the screen's height.
    assert first.get_by_role("heading").evaluate("(h) => parseFloat(getComputedStyle(h).fontSize)") >= 60
    # Landscape: the photo beside the words.
    photo, words = first.locator(".photo").bounding_box(), first.locator(".words").bounding_box()
    assert photo is not None and words is not None and photo["x"] + photo["width"] <= words["x"]

    seen.page.clock.run_for(10_000)
    expect(second).to_be_visible()
    expect(second.get_by_role("heading")).to_have_text("Pink PMMA pills nationwide")
    expect(first).to_be_hidden()
    seen.page.clock.run_for(10_000)
    expect(first).to_be_visible()

    # Portrait (an info stand): the photo above the words.
    seen.page.set_viewport_size({"width": 1080, "height": 1920})
    photo, words = first.locator(".photo").bounding_box(), first.locator(".words").bounding_box()
    assert photo is not None and words is not None and photo["y"] + photo["height"] <= words["y"]
    assert seen.problems == []


def test_the_site_reads_offline_from_the_saved_copy(
    context: BrowserContext, live_server: LiveServer, alerts: dict[str, Alert]
) -> None:
    seen = visit(context)
    north = alerts["north"]
    photo = north.latest.photos[0]
    seen.page.goto(f"{live_server.url}/?lang=en")
    expect(seen.page.get_by_role("link", name="Tesla pills in Noord-Holland")).to_be_visible()
    # The worker says when it has saved the front page, the alerts' pages and their photos.
    seen.page.wait_for_selector("html[data-offline-saved]", state="attached")
    saved = seen.page.evaluate(
        """async (paths) => Promise.all(paths.map(async (path) => Boolean(await caches.match(path))))""",
        ["/", f"/alerts/{north.id}", f"/photos/{photo.file_name}", f"/photos/{photo.thumb_name}"],
    )
    assert saved == [True, True, True, True]

    context.set_offline(True)
    seen.page.reload()
    expect(seen.page.locator(".offline-copy")).to_have_text(
        re.compile(r"^Offline copy from \d\d:\d\d\. Alerts may have changed since\.$")
    )
    expect(seen.page.get_by_role("link", name="Pink PMMA pills nationwide")).to_be_visible()

    seen.page.get_by_role("link", name="Tesla pills in Noord-Holland").click()
    expect(seen.page.get_by_role("heading", level=1)).to_have_text("Tesla pills in Noord-Holland")
    expect(seen.page.locator(".offline-copy")).to_contain_text("Offline copy from")
    image = seen.page.get_by_role("img", name="Photo of Tesla pills in Noord-Holland")
    expect(image).to_be_visible()
    assert image.evaluate("(img) => img.complete && img.naturalWidth > 0")
    assert html.unescape(seen.page.title()) == "Tesla pills in Noord-Holland · Signaal"


def test_the_organisers_page_updates_the_snippet_and_the_preview(
    context: BrowserContext, live_server: LiveServer, alerts: dict[str, Alert]
) -> None:
    seen = visit(context)
    seen.page.goto(f"{live_server.url}/organisers?lang=en&region=NL-NH&widget_lang=en")
    preview = seen.page.locator("#preview signaal-alerts")
    expect(preview.locator("li")).to_have_count(2)

    seen.page.get_by_label("Lowest level to show").select_option("red_alert")
    expect(seen.page.get_by_label("Paste this code where the alerts should appear")).to_have_value(
        re.compile(r'data-level="red_alert" async></script>$')
    )
    expect(preview.locator("li")).to_have_count(1)
    expect(preview).to_contain_text("Tesla pills in Noord-Holland")
    assert seen.page.url.endswith("level=red_alert")

    # Suggestions turn a name into a code.
    seen.page.get_by_label("Region").fill("Amsterd")
    expect(seen.page.locator('#region-suggestions option[value="GM0363"]')).to_have_count(1)
    seen.page.get_by_label("Region").fill("GM0363")
    seen.page.get_by_label("Region").dispatch_event("change")
    expect(seen.page.get_by_label("Or, if your site prefers an iframe")).to_have_value(
        re.compile(r'title="Drug alerts for Amsterdam"')
    )
    expect(preview.get_by_role("heading")).to_have_text("Drug alerts for Amsterdam")
    expect(preview.locator("li")).to_have_count(1)
    assert seen.problems == []
