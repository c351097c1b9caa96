"""The three feed formats from one list of FeedItems: JSON Feed 1.1 here, RSS 2.0 and Atom from templates.

Texts stay plain: JSON carries them as they are, Atom as type="text", and RSS, whose
description readers treat as HTML, gets HTML we build from the escaped text (so "<3" and
"&amp;" written by an editor show as written, and never as markup).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from markupsafe import escape

from alerts.api_json import absolute
from alerts.labels import label
from alerts.presentation import region_name

from .items import FeedItem, Filters

MIMETYPES = {
    "json": "application/feed+json",
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
}
ENDPOINTS = {"json": "feeds.json_feed", "rss": "feeds.rss_feed", "atom": "feeds.atom_feed"}
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# Minutes an RSS reader may keep the feed before asking again (RSS <ttl>); the same minute as max-age.
TTL_MINUTES = 1


@dataclass(frozen=True)
class FeedMeta:
    title: str
    description: str
    language: str
    self_url: str
    home_page_url: str
    icon_url: str
    author: str
    updated: datetime


def feed_meta(kind: str, filters: Filters, updated: datetime) -> FeedMeta:
    """What describes the feed itself. Call inside force_locale(filters.lang)."""
    name = current_app.config["SENDER_NAME"]
    if filters.region:
        place = region_name(filters.region) or filters.region
        title = _("%(name)s: current alerts for %(region)s", name=name, region=place)
    else:
        title = _("%(name)s: current alerts", name=name)
    description = _("Dangerous drugs found in circulation by drug-checking services.")
    if filters.level:
        description += " " + _("Level %(level)s and above.", level=label("level", filters.level))
    args = filters.query_args()
    home = url_for("public.index") + (f"?{urlencode({'lang': args['lang']})}" if "lang" in args else "")
    return FeedMeta(
        title=title,
        description=description,
        language=filters.lang,
        self_url=absolute(url_for(ENDPOINTS[kind]) + (f"?{urlencode(args)}" if args else "")),
        home_page_url=absolute(home),
        icon_url=absolute(url_for("static", filename="icon-192.png")),
        author=name,
        updated=updated,
    )


def render(kind: str, meta: FeedMeta, items: list[FeedItem]) -> bytes:
    if kind == "json":
        return json_feed(meta, items)
    template = "feeds/rss.xml" if kind == "rss" else "feeds/atom.xml"
    page = render_template(
        template, feed=meta, items=items, ttl=TTL_MINUTES, rfc822=rfc822, rfc3339=rfc3339, html=description_html
    )
    return page.encode("utf-8")


def json_feed(meta: FeedMeta, items: list[FeedItem]) -> bytes:
    body = {
        "version": JSON_FEED_VERSION,
        "title": meta.title,
        "home_page_url": meta.home_page_url,
        "feed_url": meta.self_url,
        "description": meta.description,
        "icon": meta.icon_url,
        "favicon": meta.icon_url,
        "authors": [{"name": meta.author, "url": meta.home_page_url}],
        "language": meta.language,
        "items": [_json_item(item) for item in items],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_item(item: FeedItem) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": item.id,
        "url": item.url,
        "title": item.title,
        "content_text": item.content_text,
        "summary": item.summary,
        "date_published": rfc3339(item.published),
        # A published version never changes: an update is a new item with its own id.
        "date_modified": rfc3339(item.published),
        "tags": _tags(item),
        "language": item.language,
    }
    if item.photo is not None:
        entry["image"] = item.photo.url
    entry["_signaal"] = {
        "alert_id": item.alert_id,
        "version": item.version,
        "msg_type": item.msg_type.value,
        "level": item.level.value,
        "status": item.status,
        "areas": list(item.areas),
        "expires": rfc3339(item.expires),
    }
    return entry


def _tags(item: FeedItem) -> list[str]:
    return [item.level.value, "withdrawn"] if item.status == "withdrawn" else [item.level.value]


def description_html(item: FeedItem) -> str:
    """RSS <description>: paragraphs of escaped text; the template escapes the whole once more for XML."""
    parts = [item.summary, *item.paragraphs] if item.summary not in item.paragraphs else list(item.paragraphs)
    return "".join(f"<p>{escape(part)}</p>".replace("\n", "<br>") for part in parts)


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def rfc822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)
