"""Alerts on other people's sites and screens: the widget, the iframe page, the venue screen.

GET /embed.js            the widget script (static/embed.js): one script tag renders the active
                         alerts for a region in a Shadow DOM box
GET /embed/strings.json  the widget's texts in one language, with the region's name
GET /embed               the same list as a small page: the iframe variant, and where the
                         snippet's fallback link goes when scripts are off. The only page other
                         sites may frame (core/security.py)
GET /screen              a full-screen venue display that rotates through the alerts
GET /organisers          builds the snippet from a region, language and level, with a preview

Everything but /organisers is shown inside or beside someone else's site, so it sets no cookie
(not even the language one a ?lang= leaves elsewhere) and is publicly cacheable with an ETag:
the pages refresh themselves by asking for their own URL, which costs a 304 while nothing changed.
/embed and /screen keep their bodies per process until an alert changes (freshness.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from alerts.api_json import absolute
from alerts.freshness import public_body
from alerts.labels import choices
from core.http_cache import public_cacheable
from core.rate_limits import limited

from .embed_options import (
    EmbedOptions,
    frame_url,
    iframe_snippet,
    parse_options,
    screen_url,
    script_snippet,
    shown_versions,
)

bp = Blueprint("embed", __name__)
limited("feeds")(bp)  # one counter per client for every public read (core/rate_limits.py)

SCRIPT_MAX_AGE = 3600  # a new widget version reaches every site within the hour
STRINGS_MAX_AGE = 3600
PAGE_MAX_AGE = 60  # as long as the API's: an alert must appear within a minute or two
REFRESH_SECONDS = 60
ROTATE_SECONDS, ROTATE_MIN, ROTATE_MAX = 12, 5, 120
DEFAULT_REGION = "NL"  # what the organisers' form starts with


class CookielessResponse(Response):
    """A response that cannot carry a cookie, whatever after-request hook tries to add one."""

    def set_cookie(self, *args: Any, **kwargs: Any) -> None:
        return None


@bp.get("/embed.js")
def script() -> Response:
    assert current_app.static_folder is not None
    body = (Path(current_app.static_folder) / "embed.js").read_bytes()
    response = CookielessResponse(body, mimetype="application/javascript")
    # Loadable by pages that require it of everything they embed (Cross-Origin-Embedder-Policy).
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return public_cacheable(response, SCRIPT_MAX_AGE)


@bp.get("/embed/strings.json")
def strings() -> Response:
    options, errors = parse_options(request.args)
    if errors:
        response = CookielessResponse(current_app.json.dumps({"errors": errors}), 400, mimetype="application/json")
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    with force_locale(options.lang):
        body = {
            "lang": options.lang,
            "title": options.title(),
            "levels": dict(choices("level")),
            "updated": _("Updated %(time)s", time="{time}"),
            "empty": _("There are no active alerts right now."),
            "unwell": _("Someone unwell? Go to the first aid post or call 112."),
            "site": absolute(url_for("public.index")),
            "site_name": "Signaal",
        }
    response = CookielessResponse(current_app.json.dumps(body), mimetype="application/json")
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    if "lang" not in request.args:
        response.vary.add("Accept-Language")  # the language then comes from the browser
    return public_cacheable(response, STRINGS_MAX_AGE)


@bp.get("/embed")
def frame() -> Response:
    return _page("embed/frame.html")


@bp.get("/screen")
def screen() -> Response:
    try:
        seconds = int(request.args.get("seconds", ROTATE_SECONDS))
    except ValueError:
        seconds = ROTATE_SECONDS
    return _page("embed/screen.html", rotate_seconds=min(max(seconds, ROTATE_MIN), ROTATE_MAX))


def _page(template: str, **context: Any) -> Response:
    options, errors = parse_options(request.args)

    def html() -> str:
        return render_template(
            template,
            options=options,
            errors=errors,
            versions=[] if errors else shown_versions(options),
            lang=options.lang,
            refresh_seconds=REFRESH_SECONDS,
            **context,
        )

    if errors:
        return CookielessResponse(html(), 400, mimetype="text/html")
    # The page's own words follow the negotiated language, which public_body adds to the key;
    # its alerts follow options.lang, which may differ from it (?lang=NL is read as nl here).
    inputs = (template, options, sorted(context.items()))
    rendered = public_body("embed.page", inputs, lambda: html().encode())
    response = CookielessResponse(rendered.body, mimetype="text/html")
    response.set_etag(rendered.etag)
    return public_cacheable(response, PAGE_MAX_AGE)


@bp.get("/organisers")
def organisers() -> tuple[str, int]:
    # The form's language field is "widget_lang": a plain "lang" would switch the page's own
    # language (core/i18n.py reads ?lang= everywhere).
    asked = {
        "region": request.args.get("region", DEFAULT_REGION),
        "lang": request.args.get("widget_lang", ""),
        "level": request.args.get("level", ""),
    }
    options, errors = parse_options(asked, names=True)
    return render_template(
        "embed/organisers.html",
        options=options,
        errors=errors,
        region_value=asked["region"],
        levels=choices("level"),
        **({} if errors else _snippets(options)),
    ), (400 if errors else 200)


def _snippets(options: EmbedOptions) -> dict[str, str]:
    return {
        "script_snippet": script_snippet(options),
        "iframe_snippet": iframe_snippet(options),
        "frame_url": frame_url(options),
        "screen_url": screen_url(options),
        "origin": absolute(""),
        # The preview runs the widget from this page's origin, which PUBLIC_URL may not name
        # (a development server), and this page's CSP allows scripts from its own origin only.
        "preview_link": url_for("embed.frame", **options.query()),
    }
