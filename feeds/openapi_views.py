"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of the public JSON API.

The document is written by hand (feeds/openapi.json) and checked against the real responses
in tests/feeds/test_openapi.py. Only `servers` is filled in here, from PUBLIC_URL, so the
document names the installation that serves it.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app

from core.http_cache import public_cacheable
from core.rate_limits import limited

bp = Blueprint("openapi", __name__)
limited("feeds")(bp)  # one counter per client for every public read (core/rate_limits.py)

DOCUMENT = Path(__file__).with_name("openapi.json")
# It changes only with a deployment; an hour keeps clients and CDNs from asking often.
MAX_AGE_SECONDS = 3600


def document() -> dict[str, Any]:
    """The document with this installation's address as its server."""
    loaded: dict[str, Any] = json.loads(_source()[0])
    base: str = current_app.config["PUBLIC_URL"]
    loaded["servers"] = [{"url": base.rstrip("/"), "description": current_app.config["SENDER_NAME"]}]
    return loaded


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    # Key order as written and compact: the same document always gives the same bytes and ETag.
    body = json.dumps(document(), ensure_ascii=False, separators=(",", ":"))
    response = Response(body, mimetype="application/json")
    return public_cacheable(response, MAX_AGE_SECONDS, last_modified=_source()[1])


@functools.cache
def _source() -> tuple[str, datetime]:
    """The file's text and when it last changed (its deployment), read once per process."""
    stat = DOCUMENT.stat()
    return DOCUMENT.read_text(encoding="utf-8"), datetime.fromtimestamp(int(stat.st_mtime), UTC)
