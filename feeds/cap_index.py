"""The Atom index of current CAP messages, in the shape public-alert aggregators poll.

One entry per message: every active alert and every withdrawal still in its notice period.
Each entry links (rel="alternate", type="application/cap+xml") to that version's own CAP
document, the address that never changes, as the OASIS "CAP feeds" practice note and Google
Public Alerts describe. Entries also carry the CAP fields aggregators filter on (status,
msgType, event, urgency, severity, certainty, effective, expires, areaDesc) in the CAP
namespace, as national CAP Atom feeds do, so a reader can skip a message without fetching it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from flask import current_app, url_for
from flask_babel import force_locale
from sqlalchemy import case, func, select

from alerts.api_json import absolute
from alerts.models import AlertVersion
from alerts.presentation import region_name
from alerts.vocabulary import Level, MsgType, Urgency
from core.clock import now
from core.db import db

from .cap import CAP_MEDIA_TYPE, CAP_NS, NOT_XML, cap_time, cap_url, identifier, sender
from .cap_text import info_words

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def cap_index(versions: Sequence[AlertVersion], updated: datetime) -> bytes:
    default_lang: str = current_app.config["DEFAULT_LANGUAGE"]
    name: str = current_app.config["SENDER_NAME"]
    # Atom elements are written unqualified under a literal default xmlns: ElementTree cannot
    # combine default_namespace= with plain attributes such as rel and href.
    feed = ET.Element("feed", {"xmlns": ATOM_NS, XML_LANG: default_lang})
    self_url = absolute(url_for("cap.index"))
    _add(feed, "id", self_url)
    _add(feed, "title", f"{name}: CAP")
    _add(feed, "updated", _atom_time(updated))
    _author(feed, name)
    ET.SubElement(feed, "link", rel="self", type=ATOM_MEDIA_TYPE, href=self_url)
    ET.SubElement(feed, "link", rel="alternate", type="text/html", href=absolute(url_for("public.index")))
    for version in versions:
        _entry(feed, version, default_lang, name)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def changed_at() -> datetime | None:
    """The last moment the set of current messages can have changed, for Last-Modified.

    The index changes when a version is published, takes effect or expires. Newly published
    versions alone would not do: an alert that expires drops out of the index without anything
    new being published, and a client asking If-Modified-Since must still see the change.
    """
    moment = now()
    published = AlertVersion.published_at.is_not(None)
    row = db.session.execute(
        select(
            func.max(AlertVersion.published_at),
            func.max(case((AlertVersion.effective <= moment, AlertVersion.effective))),
            func.max(case((AlertVersion.expires <= moment, AlertVersion.expires))),
        ).where(published)
    ).one()
    moments = [_aware(value) for value in row if value is not None]
    return max(moments) if moments else None


def _entry(feed: ET.Element, version: AlertVersion, default_lang: str, name: str) -> None:
    assert version.published_at is not None
    text = version.text(default_lang)
    lang = text.lang if text is not None else default_lang
    entry = ET.SubElement(feed, "entry", {XML_LANG: lang})
    versioned = cap_url(version.alert_id, version.number)
    _add(entry, "id", versioned)
    with force_locale(lang):
        words = info_words(version, text) if text is not None else None
        _add(entry, "title", words.headline if words else identifier(version.alert_id, version.number))
        _add(entry, "updated", _atom_time(version.published_at))
        _add(entry, "published", _atom_time(version.published_at))
        _author(entry, name)
        if text is not None and text.push_text:
            _add(entry, "summary", text.push_text)
        ET.SubElement(entry, "link", rel="alternate", type=CAP_MEDIA_TYPE, href=versioned)
        page = absolute(url_for("public.alert", alert_id=version.alert_id))
        ET.SubElement(entry, "link", rel="related", type="text/html", href=page)
        _cap_fields(entry, version, words.event if words else None)


def _cap_fields(entry: ET.Element, version: AlertVersion, event: str | None) -> None:
    assert version.published_at is not None
    cancel = version.msg_type == MsgType.CANCEL
    fields = [
        ("identifier", identifier(version.alert_id, version.number)),
        ("sender", sender()),
        ("sent", cap_time(version.published_at)),
        ("status", version.status.value.capitalize()),
        ("msgType", version.msg_type.value.capitalize()),
        ("event", event),
        ("urgency", (Urgency.PAST if cancel else version.urgency).value),
        ("severity", Level(version.level).cap_severity),
        ("certainty", version.certainty.value),
        ("effective", cap_time(version.effective)),
        ("expires", cap_time(version.expires)),
        ("areaDesc", version.area_description or ", ".join(region_name(c) or c for c in version.area_codes)),
    ]
    for tag, value in fields:
        if value:
            _add(entry, f"{{{CAP_NS}}}{tag}", value)


def _author(parent: ET.Element, name: str) -> None:
    author = ET.SubElement(parent, "author")
    _add(author, "name", name)
    _add(author, "uri", absolute(url_for("public.index")))


def _atom_time(moment: datetime) -> str:
    """RFC 3339 as Atom wants it; "Z" is fine here, unlike in CAP itself."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive values for an aggregate over a CASE; they are UTC (core.db).
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _add(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = NOT_XML.sub("", text)
    return element
