"""The public half of /api/v1/alerts: published alerts for apps, widgets and other services.

No login and no token. Every answer is cacheable for a minute and carries an ETag, so a
widget polling every few seconds costs a 304 most of the time. The bodies are kept per
process until an alert changes (alerts/freshness.py), so neither a 304 nor a full answer
reads the alerts again while nothing changed.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request
from werkzeug.exceptions import BadRequest, NotFound

from core.http_cache import public_cacheable
from regions import tree

from . import queries
from .api_json import histories, history_of, public_alert
from .freshness import Rendered, public_body
from .models import AlertVersion
from .vocabulary import Level

MAX_AGE_SECONDS = 60


def list_alerts() -> Response:
    """GET /api/v1/alerts?level_min=&lang=&area=: the active alerts, most severe first."""
    level_min = _level_param()
    languages = _languages_param()
    area = _area_param()

    def build() -> bytes:
        versions = [
            v
            for v in queries.active_versions()
            if Level(v.level).rank >= level_min.rank and (area is None or covers(v, area))
        ]
        history = histories(v.alert_id for v in versions)
        return jsonify({"alerts": [public_alert(v, history[v.alert_id], languages) for v in versions]}).get_data()

    return _cacheable(public_body("api.alerts", (level_min, languages, area), build))


def get_alert(alert_id: int) -> Response:
    """GET /api/v1/alerts/<id>: the newest published version, active or not (a withdrawal too)."""
    languages = _languages_param()

    def build() -> bytes:
        version = queries.public_version(alert_id)
        if version is None:
            # The same answer for "never existed" and "only drafts so far": drafts stay unseen.
            # Raised, so nothing is kept: the next request asks the database again.
            raise NotFound("no published alert with this id")
        return jsonify(public_alert(version, history_of(version.alert), languages)).get_data()

    return _cacheable(public_body("api.alert", (alert_id, languages), build))


def covers(version: AlertVersion, area: str) -> bool:
    """Whether an alert concerns the area asked for: one of them contains the other."""
    return area in queries.reach_of(version)


def _cacheable(rendered: Rendered) -> Response:
    response = Response(rendered.body, mimetype="application/json")
    response.set_etag(rendered.etag)  # what public_cacheable would make of the body, made once
    return public_cacheable(response, MAX_AGE_SECONDS)


def _level_param() -> Level:
    value = request.args.get("level_min", "").strip().lower()
    if not value:
        return Level.INFO
    if value not in tuple(Level):
        raise BadRequest(f"level_min must be one of: {', '.join(Level)}")
    return Level(value)


def _languages_param() -> list[str] | None:
    value = request.args.get("lang", "").strip().lower()
    if not value:
        return None
    languages: list[str] = current_app.config["LANGUAGES"]
    if value not in languages:
        raise BadRequest(f"lang must be one of: {', '.join(languages)}")
    return [value]


def _area_param() -> str | None:
    value = request.args.get("area", "").strip()
    if not value:
        return None
    if not tree.is_known(value):
        raise BadRequest(f"unknown region {value[:20]!r}; use a code such as NL or NL-NH")
    return tree.normalise(value)
