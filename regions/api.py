"""GET /api/v1/regions: the region tree for pickers, as public, cacheable JSON.

- no parameters: every country (code, name) and the Netherlands' tree (provinces, each with
  its municipalities);
- ?country=XX: that country's tree (its subdivisions, nested as ISO nests them);
- ?q=text: regions whose name or alias starts with text (or has a word that does), best
  first; ?country=XX narrows it to one country.

It is the same for everyone and changes only with a deployment, so it is cached by browsers
and proxies for a day, revalidated by ETag, and open to other origins (embeds, partner sites).
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from flask import Blueprint, Response, request

from core.rate_limits import limited

from . import tree

bp = Blueprint("regions_api", __name__)
limited("feeds")(bp)  # one counter per client for every public read (core/rate_limits.py)

CACHE_CONTROL = "public, max-age=86400"
DEFAULT_COUNTRY = "NL"
SUGGEST_LIMIT = 20


@bp.get("/api/v1/regions")
def regions() -> Response:
    country = request.args.get("country", "").strip().upper() or None
    if country is not None:
        region = tree.get(country)
        if region is None or region.kind != "country":
            return _json_response(_encode({"error": f"unknown country {country!r}"}), status=404)

    query = request.args.get("q")
    if query is not None:
        return _json_response(_encode({"results": _suggestions(query, country)}))
    if country is not None:
        return _json_response(_country_body(country))
    return _json_response(_default_body())


def _suggestions(query: str, country: str | None) -> list[dict[str, Any]]:
    return [
        {
            "code": region.code,
            "name": region.name,
            "kind": region.kind,
            "parent": region.parent,
            # Lets a picker say "Utrecht (province)" and "Utrecht, Utrecht" apart.
            "path": [_name(code) for code in tree.ancestors(region.code)],
        }
        for region in tree.suggest(query, country=country, limit=SUGGEST_LIMIT)
    ]


# The two tree bodies below are built once per process: there are at most ~250 of them and
# they only change with the data files, i.e. with a deployment.
@functools.cache
def _default_body() -> bytes:
    return _encode(
        {
            "countries": [{"code": c.code, "name": c.name} for c in tree.countries()],
            "tree": _node(DEFAULT_COUNTRY),
        }
    )


@functools.cache
def _country_body(country: str) -> bytes:
    return _encode({"tree": _node(country)})


def _node(code: str) -> dict[str, Any]:
    region = tree.get(code)
    assert region is not None
    return {
        "code": region.code,
        "name": region.name,
        "kind": region.kind,
        "children": [_node(child) for child in tree.children(code)],
    }


def _name(code: str) -> str:
    region = tree.get(code)
    return region.name if region is not None else code


def _encode(payload: dict[str, Any]) -> bytes:
    # Compact, key order fixed by construction: the same data always gives the same bytes,
    # so the ETag below only changes when the data does.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_response(body: bytes, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    if status != 200:
        return response
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    # Answers 304 with an empty body when If-None-Match carries this ETag (changes in place).
    response.make_conditional(request)
    return response
