"""Responses anyone may cache and read from any origin: feeds, the public API, the region tree.

A strong ETag from the body (identical on every worker process), Last-Modified when the
caller knows it, Cache-Control a CDN can use, CORS open for GET, and a 304 when the client's
copy is current.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response, request


def public_cacheable(response: Response, max_age: int = 60, last_modified: datetime | None = None) -> Response:
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    # A CDN may serve a slightly stale copy while it fetches a fresh one, never for long: an
    # alert that was withdrawn must disappear within minutes.
    response.cache_control.s_maxage = max_age
    response.headers["Cache-Control"] += f", stale-while-revalidate={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified"
    if last_modified is not None:
        response.last_modified = last_modified
    response.add_etag()
    # Turns the response into a body-less 304 in place when the client's validators match.
    response.make_conditional(request)
    return response
