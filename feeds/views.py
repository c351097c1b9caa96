"""GET /feeds/alerts.json (JSON Feed 1.1), /feeds/alerts.rss (RSS 2.0) and /feeds/alerts.atom.

Query: ?region= (a region code; alerts for it, for regions in it and for regions it lies in),
?lang= (nl or en; texts fall back per field), ?level= (the lowest level to include).
Unknown values answer 400 and say what would do. No login, no cookie of ours, open to any
origin; every answer carries ETag and Last-Modified, and a reader whose copy is current
gets a 304 that costs two small queries (alerts/freshness.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import force_locale
from werkzeug.exceptions import BadRequest
from werkzeug.http import is_resource_modified

from alerts.freshness import Freshness, Rendered
from core.http_cache import public_cacheable
from core.rate_limits import limited

from .items import feed_items, parse_filters
from .render import MIMETYPES, feed_meta, render

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
limited("feeds")(bp)  # one counter per client for every public read (core/rate_limits.py)

MAX_AGE_SECONDS = 60
# A browser script that sends its own If-None-Match asks first (CORS preflight); one day of answer.
PREFLIGHT_MAX_AGE_SECONDS = 24 * 3600


@bp.get("/alerts.json")
def json_feed() -> Response:
    return _feed("json")


@bp.get("/alerts.rss")
def rss_feed() -> Response:
    return _feed("rss")


@bp.get("/alerts.atom")
def atom_feed() -> Response:
    return _feed("atom")


def _feed(kind: str) -> Response:
    filters = parse_filters(request.args)
    freshness = Freshness.of(current_app)
    stamp = freshness.stamp()
    etag = stamp.etag(kind, filters.key())
    if not is_resource_modified(request.environ, etag=etag, last_modified=stamp.last_change):
        # The reader's copy is current: no items loaded, nothing rendered. public_cacheable's
        # make_conditional turns this empty response into the 304 by the same validators.
        response = Response(mimetype=MIMETYPES[kind])
    else:
        # The ETag names everything a feed depends on (the language is one of its filters).
        rendered = freshness.bodies.get(etag)
        if rendered is None:
            with force_locale(filters.lang):
                body = render(kind, feed_meta(kind, filters, stamp.last_change), feed_items(filters))
            rendered = Rendered(body, etag)
            freshness.bodies.put(etag, rendered)
        response = Response(rendered.body, mimetype=MIMETYPES[kind])
    response.set_etag(etag)
    return public_cacheable(response, MAX_AGE_SECONDS, stamp.last_change)


@bp.after_request
def _preflight(response: Response) -> Response:
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since"
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    return response


@bp.errorhandler(BadRequest)
def _bad_request(error: BadRequest) -> tuple[Response, int]:
    response = jsonify(error=error.description)
    # A script on another site should be able to read why its feed URL was refused.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response, 400
