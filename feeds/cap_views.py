"""CAP 1.2 for public-alert aggregators: one document per published version, and their Atom index.

- GET /alerts/<id>.cap.xml: the alert's newest published version (a withdrawal, once withdrawn);
- GET /alerts/<id>.cap.xml?version=N: published version N, for good (the index links these);
- GET /feeds/alerts.cap.atom: the current messages.

Only published versions are read (alerts.queries), so a draft's number answers 404 exactly
like a number that never existed. Everything is public, cacheable and open to any origin.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, request

from alerts import queries
from alerts.api_json import history_of
from core.clock import now
from core.http_cache import public_cacheable
from core.rate_limits import limited

from .cap import CAP_MEDIA_TYPE, cap_message
from .cap_index import ATOM_MEDIA_TYPE, cap_index, changed_at

bp = Blueprint("cap", __name__)
limited("feeds")(bp)  # one counter per client for every public read (core/rate_limits.py)

MAX_AGE_SECONDS = 60
# The index's <updated> before anything was ever published: fixed, so its ETag holds still.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@bp.get("/alerts/<int:alert_id>.cap.xml")
def alert_message(alert_id: int) -> Response:
    number = request.args.get("version")
    if number is None:
        version = queries.public_version(alert_id)
    elif number.isascii() and number.isdigit():
        version = queries.published_version(alert_id, int(number))
    else:
        return _error("version must be a version number, such as ?version=2", 400)
    if version is None:
        return _error("no published alert version with this id and number", 404)
    body = cap_message(version, history_of(version.alert))
    response = Response(body, mimetype=CAP_MEDIA_TYPE)
    return public_cacheable(response, MAX_AGE_SECONDS, last_modified=version.published_at)


@bp.get("/feeds/alerts.cap.atom")
def index() -> Response:
    moment = now()
    versions = [*queries.active_versions(), *queries.recent_withdrawals()]
    versions.sort(key=lambda v: v.published_at or moment, reverse=True)
    changed = changed_at()
    response = Response(cap_index(versions, changed or NEVER), mimetype=ATOM_MEDIA_TYPE)
    return public_cacheable(response, MAX_AGE_SECONDS, last_modified=changed)


@bp.after_request
def _open_to_all(response: Response) -> Response:
    # Errors too: a script elsewhere that asks for a withdrawn number should read the 404.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _error(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")
