"""The embeddable views' HTTP side: headers (CORS, caching, framing, no cookies), what each
shows for a region and level, and the snippet the organisers' page builds from its form."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from alerts import lifecycle
from alerts.models import Alert
from core.security import CSP
from editors.models import Role
from tests.alert_payloads import audi_payload
from tests.factories import make_editor

EN = {"Accept-Language": "en"}


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 200), (200, 170, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def publish(headline: str, areas: list[str], level: str = "warning", photo: bool = False, **overrides: Any) -> Alert:
    """A published alert whose English headline is `headline` (the Dutch one "NL " + headline)."""
    writer = make_editor(role=Role.EDITOR)
    chief = make_editor(role=Role.PUBLISHER)
    payload = audi_payload(level=level, areas=areas, **overrides)
    payload["texts"]["en"]["headline"] = headline
    payload["texts"]["nl"]["headline"] = f"NL {headline}"
    payload["texts"]["en"]["push_text"] = f"Push: {headline}"
    alert = lifecycle.create_alert(payload, writer)
    if photo:
        lifecycle.add_photo(alert, jpeg(), writer, alt_text={"en": f"Photo of {headline}"})
    for step in (lifecycle.submit, lifecycle.approve, lifecycle.publish):
        step(alert, writer if step is lifecycle.submit else chief)
    return alert


@pytest.fixture
def alerts(app: Flask) -> dict[str, Alert]:
    """One alert in Noord-Holland, one in Utrecht only, one for the whole country."""
    return {
        "north": publish("Tesla pills in Noord-Holland", ["NL-NH"], level="red_alert", photo=True),
        "utrecht": publish("Grim Reaper in Utrecht", ["NL-UT"], level="warning"),
        "national": publish("Pink PMMA pills nationwide", ["NL"], level="caution"),
    }


def textareas(page: str) -> dict[str, str]:
    """The readonly snippet boxes by id, as a browser shows their text (unescaped once)."""
    return {
        match["id"]: html.unescape(match["text"])
        for match in re.finditer(r'<textarea id="(?P<id>[^"]+)"[^>]*>(?P<text>.*?)</textarea>', page, re.S)
    }


def assert_public_and_cookieless(response: TestResponse, max_age: int) -> None:
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert f"max-age={max_age}" in response.headers["Cache-Control"]
    assert "public" in response.headers["Cache-Control"]
    assert response.headers.get("ETag")
    assert "Set-Cookie" not in response.headers


def test_the_widget_script(client: FlaskClient) -> None:
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert_public_and_cookieless(response, 3600)
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    script = response.get_data(as_text=True)
    # Shadow DOM, a constructed stylesheet (survives a host CSP without 'unsafe-inline'), no cookies.
    assert "attachShadow" in script and "adoptedStyleSheets" in script
    assert 'credentials: "omit"' in script
    again = client.get("/embed.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_only_the_iframe_page_may_be_framed(client: FlaskClient, alerts: dict[str, Alert]) -> None:
    framed = client.get("/embed?region=NL-NH&lang=en")
    assert framed.status_code == 200
    assert "X-Frame-Options" not in framed.headers
    policy = framed.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy and "'none'" not in policy.split("frame-ancestors")[1]
    # Everything else in the policy stays as strict as on every page.
    assert policy == CSP.replace("frame-ancestors 'none'", "frame-ancestors *")
    for path in ("/embed.js", "/embed/strings.json", "/screen", "/organisers", "/", "/embed/"):
        response = client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Content-Security-Policy"] == CSP, path


def test_the_iframe_page_shows_the_regions_alerts_and_sets_no_cookie(
    client: FlaskClient, alerts: dict[str, Alert]
) -> None:
    response = client.get("/embed?region=NL-NH&lang=en")
    page = response.get_data(as_text=True)
    assert_public_and_cookieless(response, 60)
    assert '<html lang="en">' in page and "Drug alerts for Noord-Holland" in page
    assert "Tesla pills in Noord-Holland" in page and "Pink PMMA pills nationwide" in page
    assert "Grim Reaper" not in page
    # Most severe first; links leave the frame for the alert's own page.
    assert page.index("Tesla pills") < page.index("Pink PMMA")
    assert f'href="/alerts/{alerts["north"].id}?lang=en" target="_top"' in page
    photo = alerts["north"].latest.photos[0]
    assert f'src="/photos/{photo.thumb_name}"' in page and 'alt="Photo of Tesla pills in Noord-Holland"' in page
    # The browser's copy is revalidated by ETag: unchanged costs a 304.
    again = client.get("/embed?region=NL-NH&lang=en", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304

    dutch = client.get("/embed?region=NL-NH&lang=nl&level=red_alert").get_data(as_text=True)
    assert "NL Tesla pills" in dutch and "Pink PMMA" not in dutch
    assert "Drugswaarschuwingen voor Noord-Holland" in dutch


def test_the_iframe_page_refuses_what_it_does_not_know(client: FlaskClient, alerts: dict[str, Alert]) -> None:
    for query in ("region=XX-ZZ", "region=NL-NH&lang=fr", "region=NL-NH&level=panic"):
        response = client.get(f"/embed?{query}", headers=EN)
        assert response.status_code == 400, query
        assert "Tesla" not in response.get_data(as_text=True)
        assert "Set-Cookie" not in response.headers
    hostile = client.get("/embed", query_string={"region": '"><script>alert(1)</script>'}, headers=EN)
    assert hostile.status_code == 400
    assert "<script>alert(1)" not in hostile.get_data(as_text=True)


def test_the_widget_texts(client: FlaskClient) -> None:
    response = client.get("/embed/strings.json?region=NL-NH&lang=nl")
    assert_public_and_cookieless(response, 3600)
    body = response.json
    assert body is not None
    assert body["lang"] == "nl" and body["title"] == "Drugswaarschuwingen voor Noord-Holland"
    assert body["levels"]["red_alert"] == "Rode alert"
    assert "{time}" in body["updated"]
    assert body["site"] == "https://signaal.test/"
    refused = client.get("/embed/strings.json?region=Narnia")
    assert refused.status_code == 400 and refused.headers["Access-Control-Allow-Origin"] == "*"


def test_the_venue_screen(client: FlaskClient, alerts: dict[str, Alert]) -> None:
    response = client.get("/screen?region=NL-NH&lang=en&seconds=2")
    page = response.get_data(as_text=True)
    assert_public_and_cookieless(response, 60)
    assert "Tesla pills in Noord-Holland" in page and "Pink PMMA pills nationwide" in page
    assert "Grim Reaper" not in page
    assert 'data-rotate-seconds="5"' in page  # at least five seconds per alert
    assert "1 of 2" in page and "2 of 2" in page
    photo = alerts["north"].latest.photos[0]
    assert f'src="/photos/{photo.file_name}"' in page  # the full photo, not the thumbnail
    assert "Do not use this pill." in page  # the advice
    assert 'data-rotate-seconds="12"' in client.get("/screen?seconds=soon").get_data(as_text=True)


def test_the_organisers_page_builds_the_snippet(client: FlaskClient, alerts: dict[str, Alert]) -> None:
    response = client.get("/organisers?region=NL-NH&widget_lang=nl&level=warning", headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    snippets = textareas(page)
    frame = "https://signaal.test/embed?region=NL-NH&amp;lang=nl&amp;level=warning"
    assert snippets["snippet-script"] == (
        f'<a href="{frame}">Drugswaarschuwingen voor Noord-Holland</a>\n'
        '<script src="https://signaal.test/embed.js" data-region="NL-NH" data-lang="nl" data-level="warning" async>'
        "</script>"
    )
    assert snippets["snippet-iframe"] == (
        f'<iframe src="{frame}" title="Drugswaarschuwingen voor Noord-Holland" width="400" height="520" '
        'loading="lazy"></iframe>'
    )
    assert 'href="https://signaal.test/screen?region=NL-NH&amp;lang=nl&amp;level=warning"' in page
    # The preview is the widget itself, run from this page's own origin.
    assert '<script src="/embed.js" data-region="NL-NH" data-lang="nl" data-level="warning" async>' in page
    # The page stays in its own language: the widget's language is not ?lang=.
    assert "<h1>Alerts on your festival site</h1>" in page
    assert "Set-Cookie" not in response.headers


def test_the_organisers_form_takes_names_and_starts_with_the_country(client: FlaskClient) -> None:
    page = client.get("/organisers?region=Amsterdam&widget_lang=en", headers=EN).get_data(as_text=True)
    assert 'data-region="GM0363"' in textareas(page)["snippet-script"]
    assert ">Drug alerts for Amsterdam</a>" in textareas(page)["snippet-script"]

    first = client.get("/organisers", headers=EN).get_data(as_text=True)
    assert 'value="NL"' in first
    assert 'data-region="NL" data-lang="en" async' in textareas(first)["snippet-script"]


def test_the_organisers_page_escapes_what_it_repeats(client: FlaskClient) -> None:
    # A region name with a quote: escaped inside the snippet, and the snippet escaped in the page.
    page = client.get("/organisers?region=GM0796&widget_lang=en", headers=EN).get_data(as_text=True)
    snippet = textareas(page)["snippet-script"]
    assert ">Drug alerts for &#39;s-Hertogenbosch</a>" in snippet
    assert 'title="Drug alerts for &#39;s-Hertogenbosch"' in textareas(page)["snippet-iframe"]

    hostile = '"><script>alert(1)</script>'
    response = client.get("/organisers", query_string={"region": hostile, "widget_lang": "en"}, headers=EN)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "<script>alert(1)" not in body
    assert "Unknown region &#34;&gt;&lt;script&gt;" in body
    assert "snippet-script" not in body
