"""What goes into a feed: active alerts and the cancel notices of recent withdrawals, filtered.

Every format (JSON Feed, RSS, Atom) is built from the same FeedItem list, so the three feeds
always carry the same alerts with the same texts. Editors write plain text; items keep it
plain and each format escapes it its own way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from alerts import queries
from alerts.api_json import absolute
from alerts.labels import label
from alerts.models import AlertPhoto, AlertVersion
from alerts.photos import photo_file_path
from alerts.presentation import alert_texts, photo_alt
from alerts.vocabulary import Level, MsgType
from core.i18n import format_moment
from regions import tree

# Characters XML 1.0 forbids even escaped; an editor's stray control character must not make a
# whole feed unreadable for every subscriber.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Filters:
    """A feed's query, validated: ?region= (with every region in and around it), ?lang=, ?level=."""

    region: str | None
    lang: str
    level: Level | None  # the minimum level

    def query_args(self) -> dict[str, str]:
        """The query that asks for exactly this feed (defaults left out), for self links."""
        args = {}
        if self.region:
            args["region"] = self.region
        if self.lang != current_app.config["DEFAULT_LANGUAGE"]:
            args["lang"] = self.lang
        if self.level:
            args["level"] = self.level.value
        return args

    def key(self) -> str:
        return f"{self.region or ''}|{self.lang}|{self.level or ''}"


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Filters from the query string; a value we do not know is a 400 that names what would do."""
    region = args.get("region", "").strip() or None
    if region is not None:
        if not tree.is_known(region):
            raise BadRequest(f"unknown region {region[:20]!r}; use a code such as NL, NL-NH or GM0363")
        region = tree.normalise(region)
    languages: list[str] = current_app.config["LANGUAGES"]
    lang = args.get("lang", "").strip().lower() or current_app.config["DEFAULT_LANGUAGE"]
    if lang not in languages:
        raise BadRequest(f"lang must be one of: {', '.join(languages)}")
    level_value = args.get("level", "").strip().lower()
    if level_value and level_value not in tuple(Level):
        raise BadRequest(f"level must be one of: {', '.join(Level)} (the lowest level to include)")
    return Filters(region, lang, Level(level_value) if level_value else None)


@dataclass(frozen=True)
class FeedPhoto:
    url: str
    length: int  # bytes, for RSS enclosures; 0 when the file cannot be read
    thumbnail_url: str
    thumbnail_width: int
    thumbnail_height: int
    alt: str


@dataclass(frozen=True)
class FeedItem:
    id: str  # one per published version, never reused: a tag URI
    alert_id: int
    version: int
    url: str
    title: str
    summary: str
    paragraphs: tuple[str, ...]  # the plain-text content, paragraph by paragraph
    language: str  # the headline's language (the asked one, or a fallback)
    published: datetime
    level: Level
    level_label: str
    status: str  # "active" or "withdrawn" (queries.PublicStatus)
    msg_type: MsgType
    areas: tuple[str, ...]
    expires: datetime
    photo: FeedPhoto | None

    @property
    def content_text(self) -> str:
        return "\n\n".join(self.paragraphs)


def feed_items(filters: Filters) -> list[FeedItem]:
    """The feed's items, newest publication first. Call inside force_locale(filters.lang)."""
    versions = [*queries.active_versions(), *queries.recent_withdrawals()]
    wanted = [v for v in versions if _wanted(v, filters)]
    wanted.sort(key=lambda v: (v.published_at, v.id), reverse=True)
    return [_item(v, filters.lang) for v in wanted]


def _wanted(version: AlertVersion, filters: Filters) -> bool:
    if filters.level is not None and Level(version.level).rank < filters.level.rank:
        return False
    return filters.region is None or filters.region in queries.reach_of(version)


def _item(version: AlertVersion, lang: str) -> FeedItem:
    assert version.published_at is not None  # only published versions reach a feed
    texts = alert_texts(version, lang)
    headline = texts["headline"].text
    withdrawn = version.msg_type == MsgType.CANCEL
    if withdrawn:
        title = _("Withdrawn: %(headline)s", headline=headline)
        summary = _("This alert has been withdrawn and no longer applies.")
        paragraphs = [summary]
        if version.withdrawal_reason:
            paragraphs.append(_("Reason: %(reason)s", reason=label("withdrawal_reason", version.withdrawal_reason)))
        paragraphs += [version.withdrawal_note, _("Below is what the alert was about, for reference.")]
        paragraphs.append(texts["description"].text)
    else:
        title, summary = headline, texts["push_text"].text
        paragraphs = [
            texts["description"].text,
            _labelled(_("What to do"), texts["instruction"].text),
            _labelled(_("In an emergency"), texts["emergency_advice"].text),
            texts["disclaimer"].text,
            _("This alert applies until %(moment)s.", moment=format_moment(version.expires)),
        ]
    return FeedItem(
        id=_item_id(version),
        alert_id=version.alert_id,
        version=version.number,
        url=_page_url(version.alert_id, lang),
        title=_xml_safe(title),
        summary=_xml_safe(summary),
        paragraphs=tuple(_xml_safe(p) for p in paragraphs if p.strip()),
        language=texts["headline"].lang,
        published=version.published_at,
        level=Level(version.level),
        level_label=label("level", version.level),
        status=queries.public_status(version).value,
        msg_type=version.msg_type,
        areas=tuple(version.area_codes),
        expires=version.expires,
        photo=_photo(version.photos[0], lang) if version.photos else None,
    )


def _labelled(heading: str, text: str) -> str:
    return f"{heading}: {text}" if text else ""


def _item_id(version: AlertVersion) -> str:
    """tag:signaal@example.org,2025-03-01:alerts/12/versions/3 (RFC 4151).

    From the sender identity and the publication day, both fixed once published, so a version
    keeps its id whatever host or path the feed is read from; an update is a new item.
    """
    assert version.published_at is not None
    sender = current_app.config["SENDER"]
    return f"tag:{sender},{version.published_at:%Y-%m-%d}:alerts/{version.alert_id}/versions/{version.number}"


def _page_url(alert_id: int, lang: str) -> str:
    if lang == current_app.config["DEFAULT_LANGUAGE"]:
        return absolute(url_for("public.alert", alert_id=alert_id))
    return absolute(url_for("public.alert", alert_id=alert_id, lang=lang))


def _photo(photo: AlertPhoto, lang: str) -> FeedPhoto:
    path = photo_file_path(photo.file_name)
    try:
        length = os.stat(path).st_size if path is not None else 0
    except OSError:
        length = 0
    edge = current_app.config["PHOTO_THUMB_EDGE"]
    scale = min(1.0, edge / max(photo.width, photo.height, 1))
    return FeedPhoto(
        url=absolute(url_for("photos.photo", name=photo.file_name)),
        length=length,
        thumbnail_url=absolute(url_for("photos.photo", name=photo.thumb_name)),
        thumbnail_width=round(photo.width * scale),
        thumbnail_height=round(photo.height * scale),
        alt=_xml_safe(photo_alt(photo, lang).text),
    )


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)
