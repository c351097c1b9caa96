"""CAP 1.2: one document per published version, references between them, and the Atom index.

Every CAP document fetched here is validated against the OASIS schema (cap_checks.get_cap).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from alerts import lifecycle
from core import clock
from feeds.cap import sender
from tests.alert_payloads import audi_payload

from .cap_checks import CAP_DATE, NS, extended_id, get_cap, pairs, parse, path_of, text, texts
from .made_alerts import Team, make_team, publish_new, publish_update, withdraw

START = datetime(2026, 12, 1, 20, 0, 0, 123456, tzinfo=UTC)
CIRCLE = {"lat": 52.3676, "lon": 4.9041, "radius_km": 5}


@pytest.fixture
def team(app: Flask) -> Team:
    clock.freeze(START)
    return make_team()


def later(seconds: float) -> None:
    clock.freeze(clock.now() + timedelta(seconds=seconds))


def test_an_alert_with_photo_and_circle_in_both_languages(app: Flask, client: FlaskClient, team: Team) -> None:
    alert = publish_new(team, photo=True, circle=CIRCLE, areas=["NL-NH", "GM0363", "BE"], area_description="")
    root, response = get_cap(client, f"/alerts/{alert.id}.cap.xml")

    assert text(root, "cap:identifier") == f"signaal-{alert.id}-v1"
    assert text(root, "cap:sender") == app.config["SENDER"]
    assert text(root, "cap:sent") == "2026-12-01T20:00:00-00:00"  # published_at, UTC as -00:00
    assert [text(root, f"cap:{f}") for f in ("status", "msgType", "scope")] == ["Actual", "Alert", "Public"]
    assert root.find("cap:references", NS) is None
    assert text(root, "cap:incidents") == alert.incident_key

    infos = root.findall("cap:info", NS)
    assert [text(i, "cap:language") for i in infos] == ["nl", "en"]  # the default language first
    nl, en = infos
    for info in infos:
        assert texts(info, "cap:category") == ["Health"] and texts(info, "cap:responseType") == ["Avoid"]
        fields = [text(info, f"cap:{f}") for f in ("urgency", "severity", "certainty")]
        assert fields == ["Immediate", "Extreme", "Observed"]
        assert text(info, "cap:effective") == "2026-12-01T20:00:00-00:00"
        assert text(info, "cap:expires") == "2026-12-31T20:00:00-00:00"
        assert text(info, "cap:senderName") == "Signaal"
        assert pairs(info, "parameter") == [
            ("level", "red_alert"),
            ("form", "tablet"),
            ("substances", "MDMA"),
            ("riskReasons", "very_high_dose"),
        ]
    assert text(nl, "cap:event") == "Drugswaarschuwing" and text(en, "cap:event") == "Drug checking alert"
    assert text(nl, "cap:headline").startswith("Rode alert: beige-gouden Audi-pil")
    assert text(en, "cap:headline").startswith("Red alert: beige-gold Audi pill")
    # The description carries the lab result and the product, labelled in the block's language.
    assert "Labuitslag: 300 mg MDMA — 2,2× de referentie van 136 mg" in text(nl, "cap:description")
    assert "Lab result: 300 mg MDMA — 2.2× the reference of 136 mg" in text(en, "cap:description")
    assert "Verkocht als: XTC" in text(nl, "cap:description") and "Sold as: XTC" in text(en, "cap:description")
    assert text(nl, "cap:instruction").startswith("Gebruik deze pil niet.")
    assert text(en, "cap:web") == f"https://signaal.test/alerts/{alert.id}?lang=en"

    photo = alert.latest.photos[0]
    stored = (Path(app.config["UPLOAD_DIR"]) / photo.file_name).read_bytes()
    for info, alt in [(nl, "Beige-gouden tablet met Audi-logo (Foto: Lab & Co)"), (en, "Beige-gold")]:
        resource = info.find("cap:resource", NS)
        assert resource is not None
        assert text(resource, "cap:resourceDesc").startswith(alt)
        assert text(resource, "cap:mimeType") == "image/jpeg"
        assert text(resource, "cap:size") == str(len(stored))
        assert text(resource, "cap:digest") == hashlib.sha1(stored).hexdigest()  # noqa: S324 - CAP's choice
        with client.get(path_of(text(resource, "cap:uri"))) as served:  # a file response: close it
            assert served.status_code == 200 and served.data == stored

    regions, circle = en.findall("cap:area", NS)
    assert pairs(regions, "geocode") == [
        ("ISO 3166-1", "BE"),
        ("CBS gemeentecode", "GM0363"),
        ("ISO 3166-2", "NL-NH"),
    ]
    assert text(regions, "cap:areaDesc") == "Belgium, Amsterdam, Noord-Holland"
    assert text(circle, "cap:circle") == "52.3676,4.9041 5"
    assert text(circle, "cap:areaDesc") == "5 km around 52.3676, 4.9041"
    assert response.headers["Last-Modified"] == "Tue, 01 Dec 2026 20:00:00 GMT"


def test_updates_and_withdrawals_reference_every_earlier_version(client: FlaskClient, team: Team) -> None:
    alert = publish_new(team)
    later(3600)
    publish_update(alert, team, level="warning", areas=["NL", "BE"])
    later(3600)
    withdraw(alert, team, note="No further samples")

    first, second, third = (get_cap(client, f"/alerts/{alert.id}.cap.xml?version={n}")[0] for n in (1, 2, 3))
    newest, _ = get_cap(client, f"/alerts/{alert.id}.cap.xml")
    assert extended_id(newest) == extended_id(third)  # without ?version: the newest published one

    identifiers = [text(doc, "cap:identifier") for doc in (first, second, third)]
    assert identifiers == [f"signaal-{alert.id}-v{n}" for n in (1, 2, 3)]
    assert [text(doc, "cap:msgType") for doc in (first, second, third)] == ["Alert", "Update", "Cancel"]
    assert [text(doc, "cap:sent") for doc in (first, second, third)] == [
        "2026-12-01T20:00:00-00:00",
        "2026-12-01T21:00:00-00:00",
        "2026-12-01T22:00:00-00:00",
    ]
    assert text(second, "cap:references") == extended_id(first)
    assert text(third, "cap:references") == f"{extended_id(first)} {extended_id(second)}"
    assert {text(doc, "cap:incidents") for doc in (first, second, third)} == {alert.incident_key}

    [info] = [i for i in second.findall("cap:info", NS) if text(i, "cap:language") == "en"]
    assert text(info, "cap:severity") == "Severe"
    assert [v for _, v in pairs(info.find("cap:area", NS), "geocode")] == [
        "BE",
        "NL",
    ]

    assert text(third, "cap:note") == "No further samples"
    cancel_infos = {text(i, "cap:language"): i for i in third.findall("cap:info", NS)}
    for info in cancel_infos.values():
        assert texts(info, "cap:responseType") == ["AllClear"] and text(info, "cap:urgency") == "Past"
        assert ("withdrawalReason", "no_longer_circulating") in pairs(info, "parameter")
        assert text(info, "cap:effective") == "2026-12-01T22:00:00-00:00"
        assert text(info, "cap:expires") == "2026-12-08T22:00:00-00:00"  # the notice period
    assert text(cancel_infos["nl"], "cap:headline").startswith("Ingetrokken: Rode alert")
    assert text(cancel_infos["en"], "cap:description").startswith(
        "This alert has been withdrawn and no longer applies.\n\nReason: No longer in circulation"
    )


def test_test_and_exercise_messages_say_so(client: FlaskClient, team: Team) -> None:
    for status in ("test", "exercise"):
        alert = publish_new(team, status=status)
        root, _ = get_cap(client, f"/alerts/{alert.id}.cap.xml")
        assert text(root, "cap:status") == status.capitalize()


def test_only_published_versions_exist(client: FlaskClient, team: Team) -> None:
    draft = lifecycle.create_alert(audi_payload(), team.writer)
    alert = publish_new(team)
    lifecycle.start_update(alert, team.writer)  # version 2: a draft

    for path in (
        f"/alerts/{draft.id}.cap.xml",
        f"/alerts/{draft.id}.cap.xml?version=1",
        f"/alerts/{alert.id}.cap.xml?version=2",
        f"/alerts/{alert.id}.cap.xml?version=0",
        f"/alerts/{alert.id + 100}.cap.xml",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    for value in ("two", "-1", "²"):
        assert client.get(f"/alerts/{alert.id}.cap.xml?version={value}").status_code == 400
    root, _ = get_cap(client, f"/alerts/{alert.id}.cap.xml")
    assert text(root, "cap:identifier") == f"signaal-{alert.id}-v1"  # the draft changes nothing


def test_cap_documents_are_cacheable_and_open_to_every_origin(client: FlaskClient, team: Team) -> None:
    alert = publish_new(team)
    path = f"/alerts/{alert.id}.cap.xml"
    first = client.get(path)
    assert first.cache_control.public and first.cache_control.max_age == 60
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "Last-Modified" in first.headers["Access-Control-Expose-Headers"]
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        again = client.get(path, headers=headers)
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag

    later(60)
    publish_update(alert, team, level="caution")
    changed = client.get(path, headers={"If-None-Match": etag, "If-Modified-Since": modified})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.headers["Last-Modified"] == "Tue, 01 Dec 2026 20:01:00 GMT"


def test_editor_text_stays_text(client: FlaskClient, team: Team) -> None:
    texts_ = audi_payload()["texts"]
    texts_["en"]["description"] = "Bell \x07 and tab\tkept; 5 < 6 & 7 > 3"
    alert = publish_new(team, texts=texts_, contact="lab & co")
    root, response = get_cap(client, f"/alerts/{alert.id}.cap.xml")
    [en] = [i for i in root.findall("cap:info", NS) if text(i, "cap:language") == "en"]
    # XML 1.0 cannot carry a bell character even escaped; everything else arrives as written.
    assert text(en, "cap:description").startswith("Bell  and tab\tkept; 5 < 6 & 7 > 3\n\n")
    assert text(en, "cap:contact") == "lab & co" and b"lab &amp; co" in response.data


def test_a_sender_cap_forbids_is_refused(app: Flask) -> None:
    for bad in ("signaal,nl", "signaal nl", "a<b", "a&b", ""):
        app.config["SENDER"] = bad
        with pytest.raises(ValueError, match="SENDER"):
            sender()


def test_the_index_lists_current_messages_and_each_links_a_valid_document(client: FlaskClient, team: Team) -> None:
    active = publish_new(team)
    withdrawn = publish_new(team, level="warning")
    withdraw(withdrawn, team)
    publish_new(team, status="test")  # for the people running the system, not for aggregators
    short = publish_new(team, expires=(START + timedelta(days=1)).isoformat())
    later(2 * 86400)  # `short` has expired; the withdrawal is still in its seven-day notice

    response = client.get("/feeds/alerts.cap.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = parse(response.data)
    assert text(feed, "atom:id") == "https://signaal.test/feeds/alerts.cap.atom"
    assert feed.find("atom:link[@rel='self']", NS) is not None
    entries = feed.findall("atom:entry", NS)
    by_identifier = {text(e, "cap:identifier"): e for e in entries}
    assert set(by_identifier) == {f"signaal-{active.id}-v1", f"signaal-{withdrawn.id}-v2"}
    assert short.id not in {int(i.split("-")[1]) for i in by_identifier}

    identifiers = []
    for entry in entries:
        [link] = entry.findall("atom:link[@rel='alternate']", NS)
        assert link.get("type") == "application/cap+xml" and text(entry, "atom:id") == link.get("href")
        document, _ = get_cap(client, path_of(link.get("href", "")))
        identifiers.append(text(document, "cap:identifier"))
        for field in ("identifier", "sender", "sent", "status", "msgType"):
            assert text(entry, f"cap:{field}") == text(document, f"cap:{field}"), field
        info = document.find("cap:info", NS)
        assert info is not None
        for field in ("event", "urgency", "severity", "certainty", "effective", "expires"):
            assert text(entry, f"cap:{field}") == text(info, f"cap:{field}"), field
        assert CAP_DATE.fullmatch(text(entry, "cap:sent"))
        assert text(entry, "atom:updated").endswith("Z")  # Atom's RFC 3339; CAP's own form is above
    assert sorted(identifiers) == sorted(by_identifier)
    cancel = by_identifier[f"signaal-{withdrawn.id}-v2"]
    assert text(cancel, "cap:msgType") == "Cancel" and text(cancel, "atom:title").startswith("Ingetrokken:")

    later(6 * 86400)  # the notice period is over
    feed = parse(client.get("/feeds/alerts.cap.atom").data)
    assert {text(e, "cap:identifier") for e in feed.findall("atom:entry", NS)} == {f"signaal-{active.id}-v1"}


def test_the_index_is_cacheable_and_changes_when_an_alert_expires(client: FlaskClient, team: Team) -> None:
    empty = client.get("/feeds/alerts.cap.atom")
    assert empty.status_code == 200 and "Last-Modified" not in empty.headers
    assert parse(empty.data).find("atom:entry", NS) is None

    publish_new(team, expires=(START + timedelta(hours=2)).isoformat())
    first = client.get("/feeds/alerts.cap.atom")
    assert first.headers["Last-Modified"] == "Tue, 01 Dec 2026 20:00:00 GMT"
    assert first.cache_control.public and first.headers["Access-Control-Allow-Origin"] == "*"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get("/feeds/alerts.cap.atom", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/feeds/alerts.cap.atom", headers={"If-Modified-Since": modified}).status_code == 304

    later(3 * 3600)  # nothing was published, but the alert expired and left the index
    after = client.get("/feeds/alerts.cap.atom", headers={"If-Modified-Since": modified})
    assert after.status_code == 200 and after.headers["Last-Modified"] == "Tue, 01 Dec 2026 22:00:00 GMT"
    assert parse(after.data).find("atom:entry", NS) is None
