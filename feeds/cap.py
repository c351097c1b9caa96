"""One published alert version as an OASIS CAP 1.2 message, one <info> block per language.

Every version is a message of its own: an update or a withdrawal gets a new identifier and
lists every earlier published version of the incident in <references>, so an aggregator can
retire what it showed before. The XML is built with ElementTree, so whatever an editor wrote
is escaped as text and never becomes markup.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from alerts.api_json import History, absolute
from alerts.models import AlertPhoto, AlertText, AlertVersion
from alerts.photos import photo_file_path
from alerts.presentation import photo_alt, region_name
from alerts.vocabulary import Level, MsgType, Urgency
from core.i18n import format_number
from regions.tree import get as get_region

from .cap_text import info_words

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
# The registered media type; "+xml" tells browsers and generic XML tools what it is (RFC 7303).
CAP_MEDIA_TYPE = "application/cap+xml"
IDENTIFIER_PREFIX = "signaal"
# CAP 1.2 forbids whitespace, commas and the XML-restricted < and & in identifier and sender.
FORBIDDEN_IN_IDS = re.compile(r"[\s,<&]")
# Characters XML 1.0 cannot carry at all, escaped or not (control characters, lone surrogates).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
GEOCODE_NAMES = {"country": "ISO 3166-1", "subdivision": "ISO 3166-2", "municipality": "CBS gemeentecode"}

ET.register_namespace("cap", CAP_NS)


def identifier(alert_id: int, number: int) -> str:
    """Unique per version and stable forever: references from later messages depend on it."""
    return f"{IDENTIFIER_PREFIX}-{alert_id}-v{number}"


def cap_time(moment: datetime) -> str:
    """CAP's dateTime: whole seconds and a numeric offset, UTC written as -00:00 (never "Z")."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"


def sender() -> str:
    value: str = current_app.config["SENDER"]
    if not value or FORBIDDEN_IN_IDS.search(value):
        # Every message would be invalid CAP; better a clear error than a feed nobody accepts.
        raise ValueError(f"SENDER {value!r} is no CAP sender: it must not contain spaces, commas, < or &")
    return value


def cap_url(alert_id: int, number: int | None = None) -> str:
    """Where a message lives; with a number, the address of that one version for good."""
    if number is None:
        return absolute(url_for("cap.alert_message", alert_id=alert_id))
    return absolute(url_for("cap.alert_message", alert_id=alert_id, version=number))


def cap_message(version: AlertVersion, history: History) -> bytes:
    """The CAP <alert> for a published version; `history` is its alert's published versions."""
    assert version.published_at is not None, "only published versions become CAP messages"
    alert = ET.Element(_q("alert"))
    _add(alert, "identifier", identifier(version.alert_id, version.number))
    _add(alert, "sender", sender())
    _add(alert, "sent", cap_time(version.published_at))
    _add(alert, "status", version.status.value.capitalize())
    _add(alert, "msgType", version.msg_type.value.capitalize())
    _add(alert, "scope", "Public")
    if version.msg_type == MsgType.CANCEL and version.withdrawal_note.strip():
        _add(alert, "note", version.withdrawal_note.strip())
    earlier = [p for p in history.published if p.number < version.number]
    if earlier:
        # An update replaces, and a withdrawal cancels, every message sent about this incident.
        own = sender()
        refs = (f"{own},{identifier(version.alert_id, p.number)},{cap_time(p.published_at)}" for p in earlier)
        _add(alert, "references", " ".join(refs))
    _add(alert, "incidents", history.incident_key)
    for text in _in_language_order(version.texts):
        with force_locale(text.lang):
            _info(alert, version, text)
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS)


def _info(alert: ET.Element, version: AlertVersion, text: AlertText) -> None:
    words = info_words(version, text)
    info = _add(alert, "info")
    _add(info, "language", text.lang)
    _add(info, "category", "Health")
    _add(info, "event", words.event)
    _add(info, "responseType", version.response_type.value)
    # A withdrawal calls for no action any more: CAP's "Past", whatever the alert it copies said.
    urgency = Urgency.PAST if version.msg_type == MsgType.CANCEL else version.urgency
    _add(info, "urgency", urgency.value)
    _add(info, "severity", Level(version.level).cap_severity)
    _add(info, "certainty", version.certainty.value)
    _add(info, "effective", cap_time(version.effective))
    _add(info, "expires", cap_time(version.expires))
    _add(info, "senderName", current_app.config["SENDER_NAME"])
    _add(info, "headline", words.headline)
    _add(info, "description", words.description)
    if words.instruction:
        _add(info, "instruction", words.instruction)
    page = absolute(url_for("public.alert", alert_id=version.alert_id, lang=text.lang))
    _add(info, "web", page)
    if version.contact.strip():
        _add(info, "contact", version.contact.strip())
    for name, value in _parameters(version):
        _pair(info, "parameter", name, value)
    for photo in version.photos:
        _resource(info, photo, text.lang)
    _areas(info, version)


def _parameters(version: AlertVersion) -> Iterable[tuple[str, str]]:
    """Signaal's own codes, for readers that filter on them rather than on words."""
    yield "level", version.level.value
    yield "form", version.form
    if version.components:
        yield "substances", ", ".join(c.substance for c in version.components)
    if version.risk_reasons:
        yield "riskReasons", ", ".join(version.risk_reasons)
    if version.withdrawal_reason:
        yield "withdrawalReason", version.withdrawal_reason.value


def _resource(info: ET.Element, photo: AlertPhoto, lang: str) -> None:
    resource = _add(info, "resource")
    description = photo_alt(photo, lang).text
    if photo.credit:
        description += f" ({_('Photo:')} {photo.credit})"
    _add(resource, "resourceDesc", description)
    _add(resource, "mimeType", "image/jpeg")  # photos.py re-encodes every upload as JPEG
    facts = _file_facts(photo.file_name)
    if facts is not None:
        _add(resource, "size", str(facts[0]))
    _add(resource, "uri", absolute(url_for("photos.photo", name=photo.file_name)))
    if facts is not None:
        _add(resource, "digest", facts[1])


def _file_facts(name: str) -> tuple[int, str] | None:
    """Size in bytes and SHA-1 (hex) of a stored photo, or None when the file cannot be read."""
    path = photo_file_path(name)
    if path is None:
        return None
    try:
        return _hash_file(str(path))
    except OSError:
        return None


# Stored photos never change (random names, never reused), so a file is hashed once per
# process. A failed read raises and is not cached, so a file that reappears is picked up.
@functools.lru_cache(maxsize=1024)
def _hash_file(path: str) -> tuple[int, str]:
    data = Path(path).read_bytes()
    return len(data), hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _areas(info: ET.Element, version: AlertVersion) -> None:
    """The regions as one <area> with a geocode each; the circle, if any, as a second one.

    Two <area> blocks mean their union, which is what the alert covers; a circle inside the
    regions' block could be read as narrowing them down instead.
    """
    codes = version.area_codes
    if codes:
        area = _add(info, "area")
        names = ", ".join(region_name(code) or code for code in codes)
        _add(area, "areaDesc", version.area_description.strip() or names)
        for code in codes:
            _pair(area, "geocode", _geocode_name(code), code)
    if version.circle_lat is not None and version.circle_lon is not None and version.circle_radius_km is not None:
        lat, lon, radius = _coordinate(version.circle_lat), _coordinate(version.circle_lon), version.circle_radius_km
        area = _add(info, "area")
        described = _("%(km)s km around %(lat)s, %(lon)s", km=format_number(radius), lat=lat, lon=lon)
        _add(area, "areaDesc", described)
        # WGS 84 "latitude,longitude radius", the radius in kilometres.
        _add(area, "circle", f"{lat},{lon} {_coordinate(radius)}")


def _geocode_name(code: str) -> str:
    region = get_region(code)
    if region is not None:
        return GEOCODE_NAMES[region.kind]
    # A code the region data no longer knows: tell its kind from its shape.
    if code.startswith("GM") and code[2:].isdigit():
        return GEOCODE_NAMES["municipality"]
    return GEOCODE_NAMES["subdivision" if "-" in code else "country"]


def _coordinate(value: float) -> str:
    """Plain decimal degrees or kilometres: no exponent, no trailing zeros."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _in_language_order(texts: Iterable[AlertText]) -> list[AlertText]:
    """The configured languages' order, so the default language's block comes first."""
    configured: list[str] = current_app.config["LANGUAGES"]
    return sorted(texts, key=lambda t: (configured.index(t.lang) if t.lang in configured else len(configured), t.lang))


def _q(tag: str) -> str:
    return f"{{{CAP_NS}}}{tag}"


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, _q(tag))
    if text is not None:
        element.text = NOT_XML.sub("", text)
    return element


def _pair(parent: ET.Element, tag: str, name: str, value: str) -> None:
    pair = _add(parent, tag)
    _add(pair, "valueName", name)
    _add(pair, "value", value)
