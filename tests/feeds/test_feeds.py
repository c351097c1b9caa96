"""/feeds/alerts.json, .rss and .atom: alerts published through the API, read as feed readers read them."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import jsonschema
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import update
from werkzeug.test import TestResponse

from alerts.freshness import REUSE
from alerts.lifecycle import CANCEL_NOTICE
from alerts.models import AlertVersion
from alerts.vocabulary import State
from core import clock
from core.db import db
from tests.alert_payloads import audi_payload
from tests.alerts.api_client import Team, call, make_team, ok

FEEDS = ("/feeds/alerts.json", "/feeds/alerts.rss", "/feeds/alerts.atom")
JSON, RSS, ATOM = FEEDS
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SCHEMA = json.loads((Path(__file__).parent / "jsonfeed-1.1.schema.json").read_text())
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(RFC3339.fullmatch(value) and datetime.fromisoformat(value))


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme and urlsplit(value).netloc)


def publish(client: FlaskClient, team: Team, photo: bool = False, **overrides: Any) -> int:
    """An alert created, approved and published through /api/v1/alerts, as a lab system does it."""
    alert_id: int = ok(call(client, "POST", "", team.writer, audi_payload(**overrides)), 201)["id"]
    if photo:
        image = io.BytesIO()
        Image.new("RGB", (640, 320), (200, 180, 120)).save(image, "JPEG")
        form = {"file": (io.BytesIO(image.getvalue()), "pill.jpg"), "alt_en": "Beige tablet"}
        ok(call(client, "POST", f"/{alert_id}/photos", team.writer, data=form), 201)
    ok(call(client, "POST", f"/{alert_id}/submit", team.writer))
    ok(call(client, "POST", f"/{alert_id}/approve", team.chief))
    ok(call(client, "POST", f"/{alert_id}/publish", team.chief))
    return alert_id


def texts(headline: str, nl: bool = True, en: bool = True) -> dict[str, Any]:
    base = audi_payload()["texts"]
    chosen = {lang: {**base[lang], "headline": f"{headline} ({lang})"} for lang, on in (("nl", nl), ("en", en)) if on}
    return chosen


def json_feed(client: FlaskClient, query: str = "") -> dict[str, Any]:
    response = client.get(JSON + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = json.loads(response.data)
    return body


def titles(client: FlaskClient, query: str = "") -> list[str]:
    return [item["title"] for item in json_feed(client, query)["items"]]


def parsed(response: TestResponse) -> feedparser.FeedParserDict:
    assert response.status_code == 200, response.get_data(as_text=True)
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def test_json_feed_is_valid_json_feed_1_1_with_our_extension(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    clock.freeze(START)
    alert_id = publish(client, team, photo=True)
    response = client.get(JSON)
    assert response.mimetype == "application/feed+json"
    body = json.loads(response.data)
    jsonschema.validate(body, SCHEMA, format_checker=FORMATS)
    assert body["version"] == "https://jsonfeed.org/version/1.1" and body["language"] == "nl"
    assert body["feed_url"] == "https://signaal.test/feeds/alerts.json"
    assert body["home_page_url"] == "https://signaal.test/"
    [item] = body["items"]
    assert item["id"] == f"tag:signaal@example.org,2025-03-01:alerts/{alert_id}/versions/1"
    assert item["url"] == f"https://signaal.test/alerts/{alert_id}"
    assert item["title"] == audi_payload()["texts"]["nl"]["headline"]
    assert item["summary"] == audi_payload()["texts"]["nl"]["push_text"]
    assert "Gebruik deze pil niet." in item["content_text"] and item["tags"] == ["red_alert"]
    assert item["date_published"] == item["date_modified"] == "2025-03-01T12:00:00+00:00"
    assert item["image"].startswith("https://signaal.test/photos/")
    assert item["_signaal"] == {
        "alert_id": alert_id,
        "version": 1,
        "msg_type": "alert",
        "level": "red_alert",
        "status": "active",
        "areas": ["NL"],
        "expires": "2025-03-31T12:00:00+00:00",
    }
    with client.get(urlsplit(item["image"]).path) as photo:
        assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    # The schema is strict enough to catch a stray key or a missing content field.
    for broken in ({**body, "itmes": []}, {**body, "items": [{"id": "x", "title": "no content"}]}):
        assert not jsonschema.Draft202012Validator(SCHEMA, format_checker=FORMATS).is_valid(broken)


def test_rss_and_atom_parse_cleanly_and_agree_with_the_json_feed(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    clock.freeze(START)
    first = publish(client, team, photo=True)
    clock.freeze(START + timedelta(hours=1))
    second = publish(client, team, level="caution", areas=["BE"])
    items = json_feed(client, "?lang=en")["items"]
    rss, atom = parsed(client.get(RSS + "?lang=en")), parsed(client.get(ATOM + "?lang=en"))
    assert rss.version == "rss20" and atom.version == "atom10"
    for feed, path in ((rss, RSS), (atom, ATOM)):
        self_links = [link.href for link in feed.feed.links if link.rel == "self"]
        assert self_links == [f"https://signaal.test{path}?lang=en"]
        assert [e.id for e in feed.entries] == [i["id"] for i in items]  # newest first, same ids
        assert [e.title for e in feed.entries] == [i["title"] for i in items]
        assert [e.link for e in feed.entries] == [
            f"https://signaal.test/alerts/{alert_id}?lang=en" for alert_id in (second, first)
        ]
        assert [e.tags[0].term for e in feed.entries] == ["caution", "red_alert"]
        assert feed.entries[1].published_parsed[:5] == (2025, 3, 1, 12, 0)
        assert feed.feed.updated_parsed[:5] == (2025, 3, 1, 13, 0)
        enclosures = [e.enclosures for e in feed.entries]
        assert enclosures[0] == [] and enclosures[1][0].type == "image/jpeg"
        assert int(enclosures[1][0].length) > 0 and enclosures[1][0].href == items[1]["image"]
        assert feed.entries[1].media_thumbnail[0]["url"].endswith("-t.jpg")
    assert atom.entries[0].tags[0].label == "Caution" and atom.feed.language == "en"
    assert atom.entries[1].summary == audi_payload()["texts"]["en"]["push_text"]
    assert atom.entries[1].content[0].type == "text/plain"
    assert "Do not use this pill." in atom.entries[1].content[0].value
    assert "Do not use this pill." in rss.entries[1].description
    assert client.get(RSS).mimetype == "application/rss+xml" and client.get(ATOM).mimetype == "application/atom+xml"


def test_region_filter_includes_regions_in_and_around_the_one_asked(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    publish(client, team, texts=texts("National"), areas=["NL"])
    publish(client, team, texts=texts("Amsterdam"), areas=["GM0363"])
    publish(client, team, texts=texts("Rotterdam"), areas=["GM0599"])
    publish(client, team, texts=texts("Belgium"), areas=["BE"])
    assert sorted(titles(client, "?region=NL-NH")) == ["Amsterdam (nl)", "National (nl)"]
    assert sorted(titles(client, "?region=nl")) == ["Amsterdam (nl)", "National (nl)", "Rotterdam (nl)"]
    assert sorted(titles(client, "?region=NL-ZH")) == ["National (nl)", "Rotterdam (nl)"]
    assert sorted(titles(client, "?region=GM0363")) == ["Amsterdam (nl)", "National (nl)"]
    assert titles(client, "?region=BE-VAN") == ["Belgium (nl)"]
    assert len(titles(client)) == 4
    atom = parsed(client.get(ATOM + "?region=nl-nh"))
    assert atom.feed.title == "Signaal: actuele waarschuwingen voor Noord-Holland"
    assert [link.href for link in atom.feed.links if link.rel == "self"] == [
        "https://signaal.test/feeds/alerts.atom?region=NL-NH"
    ]


def test_language_with_fallback_per_field(app: Flask, client: FlaskClient) -> None:
    app.config["REQUIRED_LANGUAGES"] = ["nl"]
    team = make_team(app)
    publish(client, team, texts=texts("Both"))
    publish(client, team, texts=texts("Dutch only", en=False))
    english = json_feed(client, "?lang=en")
    assert english["language"] == "en"
    assert sorted((i["title"], i["language"]) for i in english["items"]) == [
        ("Both (en)", "en"),
        ("Dutch only (nl)", "nl"),
    ]
    # Our own sentences follow the feed's language even where the editor's text falls back.
    assert all("This alert applies until" in i["content_text"] for i in english["items"])
    assert sorted(titles(client)) == sorted(titles(client, "?lang=nl")) == ["Both (nl)", "Dutch only (nl)"]
    assert all("Deze waarschuwing geldt tot" in i["content_text"] for i in json_feed(client)["items"])
    assert parsed(client.get(RSS + "?lang=en")).feed.language == "en"


def test_level_is_a_minimum(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    for level in ("info", "caution", "warning", "red_alert"):
        publish(client, team, level=level, texts=texts(level))
    assert sorted(titles(client, "?level=warning")) == ["red_alert (nl)", "warning (nl)"]
    assert titles(client, "?level=RED_ALERT") == ["red_alert (nl)"]
    assert len(titles(client, "?level=info")) == len(titles(client)) == 4


def test_unknown_values_are_refused_with_a_clear_message(app: Flask, client: FlaskClient) -> None:
    for path in FEEDS:
        for query, message in (
            ("?region=XX-NOWHERE", "unknown region 'XX-NOWHERE'; use a code such as NL, NL-NH or GM0363"),
            ("?lang=de", "lang must be one of: nl, en"),
            ("?level=severe", "level must be one of: info, caution, warning, red_alert (the lowest level to include)"),
        ):
            response = client.get(path + query)
            assert response.status_code == 400 and response.json == {"error": message}, (path, query)
            assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(JSON + "?utm_source=x&region=&level=").status_code == 200  # unknown keys, empty values


def test_withdrawn_alert_shows_its_notice_until_the_notice_period_ends(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    clock.freeze(START)
    alert_id = publish(client, team)
    clock.freeze(START + timedelta(days=2))
    body = {"reason": "no_longer_circulating", "note": "No further samples."}
    ok(call(client, "POST", f"/{alert_id}/withdraw", team.chief, body))
    for query in ("", "?region=NL-NH", "?level=red_alert"):
        [notice] = json_feed(client, query)["items"]
        assert notice["title"] == "Ingetrokken: " + audi_payload()["texts"]["nl"]["headline"]
        assert notice["_signaal"]["status"] == "withdrawn" and notice["_signaal"]["version"] == 2
        assert notice["tags"] == ["red_alert", "withdrawn"]
        assert "Reden: Niet meer in omloop" in notice["content_text"]
        assert "No further samples." in notice["content_text"]
    english = json_feed(client, "?lang=en")["items"][0]
    assert english["title"].startswith("Withdrawn: Red alert") and english["summary"].startswith("This alert has been")
    rss = parsed(client.get(RSS))
    assert rss.entries[0].title.startswith("Ingetrokken: ")

    clock.freeze(START + timedelta(days=2) + CANCEL_NOTICE - timedelta(seconds=1))
    etag = client.get(JSON).headers["ETag"]
    assert len(json_feed(client)["items"]) == 1
    clock.freeze(START + timedelta(days=2) + CANCEL_NOTICE)
    assert json_feed(client)["items"] == []
    gone = client.get(JSON, headers={"If-None-Match": etag})
    assert gone.status_code == 200 and gone.headers["ETag"] != etag
    for path in (RSS, ATOM):
        assert parsed(client.get(path)).entries == []


def test_expired_alert_leaves_at_once_and_last_modified_moves_forward(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    clock.freeze(START)
    publish(client, team, texts=texts("Long"))
    clock.freeze(START + timedelta(minutes=10))
    publish(client, team, texts=texts("Short"), expires=(START + timedelta(hours=1)).isoformat())
    before = client.get(JSON)
    assert before.headers["Last-Modified"] == format_datetime(START + timedelta(minutes=10), usegmt=True)

    clock.freeze(START + timedelta(hours=1))  # no sweep has run: the time alone takes it out
    after = client.get(JSON)
    assert [i["title"] for i in after.json["items"]] == ["Long (nl)"]  # type: ignore[index]
    assert after.headers["Last-Modified"] == format_datetime(START + timedelta(hours=1), usegmt=True)
    assert after.headers["ETag"] != before.headers["ETag"]
    # A reader still showing "Short" must not be told its copy is current.
    stale = client.get(JSON, headers={"If-Modified-Since": before.headers["Last-Modified"]})
    assert stale.status_code == 200


def test_alert_published_for_later_appears_when_it_takes_effect(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    clock.freeze(START)
    later = START + timedelta(hours=2)
    publish(client, team, effective=later.isoformat(), expires=(later + timedelta(days=3)).isoformat())
    before = client.get(JSON)
    assert before.json["items"] == []  # type: ignore[index]
    clock.freeze(later - timedelta(seconds=1))
    assert client.get(JSON, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304
    clock.freeze(later)
    now_in_effect = client.get(JSON, headers={"If-None-Match": before.headers["ETag"]})
    assert now_in_effect.status_code == 200 and len(now_in_effect.json["items"]) == 1  # type: ignore[index]
    assert now_in_effect.headers["Last-Modified"] == format_datetime(later, usegmt=True)


def test_a_change_made_by_another_process_shows_within_a_second(app: Flask, client: FlaskClient) -> None:
    """Commits in this process renew the ETag at once; another process's (here: a connection of
    its own, outside the session) within alerts.freshness.REUSE."""
    team = make_team(app)
    clock.freeze(START)
    alert_id = publish(client, team)
    etag = client.get(JSON).headers["ETag"]
    with db.engine.begin() as connection:
        connection.execute(update(AlertVersion).where(AlertVersion.alert_id == alert_id).values(state=State.WITHDRAWN))
    assert client.get(JSON, headers={"If-None-Match": etag}).status_code == 304
    clock.freeze(START + REUSE)
    changed = client.get(JSON, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json["items"] == []  # type: ignore[index]


def test_conditional_requests_get_304_until_something_changes(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    empty = client.get(JSON)
    assert empty.headers["Last-Modified"] == "Wed, 01 Jan 2025 00:00:00 GMT" and empty.json["items"] == []  # type: ignore[index]
    clock.freeze(START)
    publish(client, team)
    clock.freeze(START + timedelta(minutes=5))
    for path in FEEDS:
        for query in ("", "?lang=en&region=NL-NH"):
            first = client.get(path + query)
            etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
            assert modified == "Sat, 01 Mar 2025 12:00:00 GMT"
            by_etag = client.get(path + query, headers={"If-None-Match": etag})
            assert by_etag.status_code == 304 and by_etag.data == b"" and by_etag.headers["ETag"] == etag
            assert by_etag.headers["Access-Control-Allow-Origin"] == "*"
            by_date = client.get(path + query, headers={"If-Modified-Since": modified})
            assert by_date.status_code == 304 and by_date.data == b""
            assert client.get(path + query, headers={"If-None-Match": '"stale"'}).status_code == 200
            assert client.head(path + query, headers={"If-None-Match": etag}).status_code == 304
    etags = {path: client.get(path).headers["ETag"] for path in FEEDS}
    assert len(set(etags.values())) == 3  # one per format
    # At the same moment: a commit in this process ends the stamp it holds at once.
    publish(client, team, level="info", areas=["BE"])
    for path in FEEDS:
        # Even a feed the new alert is not in gets a new ETag: one needless answer, never a stale one.
        changed = client.get(path, headers={"If-None-Match": etags[path]})
        assert changed.status_code == 200 and changed.headers["ETag"] != etags[path]


def test_headers_for_cdns_and_other_sites(app: Flask, client: FlaskClient) -> None:
    for path in FEEDS:
        response = client.get(path)
        assert response.cache_control.public and response.cache_control.max_age == 60
        assert (
            response.cache_control.s_maxage == 60 and "stale-while-revalidate=60" in response.headers["Cache-Control"]
        )
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Set-Cookie" not in response.headers
        preflight = client.options(
            path, headers={"Origin": "https://festival.example", "Access-Control-Request-Method": "GET"}
        )
        assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "*"
        assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
        assert set(preflight.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
        assert client.post(path).status_code == 405


def test_editor_text_is_escaped_never_markup(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    tricky = "Pink & purple <3 pill, &lt;b&gt; on the back"
    payload = audi_payload()["texts"]
    payload["nl"] = {**payload["nl"], "headline": tricky, "push_text": tricky, "description": f"{tricky}\nSecond line"}
    publish(client, team, texts=payload)
    item = json_feed(client)["items"][0]
    assert item["title"] == item["summary"] == tricky and item["content_text"].startswith(f"{tricky}\nSecond line")
    rss_raw, atom_raw = client.get(RSS).get_data(as_text=True), client.get(ATOM).get_data(as_text=True)
    assert "<title>Pink &amp; purple &lt;3 pill, &amp;lt;b&amp;gt; on the back</title>" in rss_raw
    assert "<3" not in rss_raw and "<3" not in atom_raw and "<b>" not in rss_raw and "<b>" not in atom_raw
    rss, atom = parsed(client.get(RSS)), parsed(client.get(ATOM))
    assert rss.entries[0].title == atom.entries[0].title == atom.entries[0].summary == tricky
    assert atom.entries[0].content[0].value.startswith(f"{tricky}\nSecond line")
    # RSS descriptions are HTML to readers: ours is the text escaped, with its line break kept.
    assert rss.entries[0].description.startswith(
        "<p>Pink &amp; purple &lt;3 pill, &amp;lt;b&amp;gt; on the back</p>"
        "<p>Pink &amp; purple &lt;3 pill, &amp;lt;b&amp;gt; on the back<br />Second line</p>"
    )


def test_a_language_filter_sets_no_cookie(client: FlaskClient) -> None:
    for path in ("/feeds/alerts.json?lang=en", "/api/v1/alerts?lang=en"):
        response = client.get(path)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, path
