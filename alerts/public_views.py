"""The public pages: the list of active alerts and one alert. No login, no cookies but "lang".

Only published versions are ever read here (queries.py decides which), so drafts and
versions in review cannot leak through these routes.

A crowd opens these pages all at once when an alert goes out, so their bodies are kept per
process until an alert changes (alerts/freshness.py) and carry an ETag made from the body:
a reload costs a 304 that reads no alert. The one per-visitor part of these pages is a
flashed message (base.html shows it, after unsubscribing for instance); a visitor with one
waiting gets the page rendered for them alone, neither from the kept bodies nor into them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from flask import Blueprint, Response, render_template, request, session

from core.i18n import locale_code

from . import labels, presentation, queries
from .freshness import public_body

bp = Blueprint("public", __name__)

# Where Flask keeps flashed messages in the session until a page shows them.
FLASHES = "_flashes"

# Template globals for every template, so the editor's preview can include
# public/_alert_body.html without passing helpers around.
for _name, _helper in presentation.TEMPLATE_GLOBALS.items():
    bp.add_app_template_global(_helper, _name)
bp.add_app_template_global(labels.label, "label")


@bp.get("/")
def index() -> Response:
    def html() -> str:
        return render_template("public/index.html", versions=queries.active_versions(), lang=locale_code())

    return _page("public.index", (), html)


@bp.get("/alerts/<int:alert_id>")
def alert(alert_id: int) -> Response | tuple[str, int]:
    def html() -> str:
        version = queries.public_version(alert_id)
        if version is None:
            raise _NotPublished()
        status = queries.public_status(version)
        original = queries.withdrawn_original(version) if status == queries.PublicStatus.WITHDRAWN else None
        return render_template(
            "public/alert.html", version=version, status=status, original=original, lang=locale_code()
        )

    try:
        return _page("public.alert", (alert_id,), html)
    except _NotPublished:
        return render_template("public/not_found.html"), 404


class _NotPublished(Exception):
    """No published version: the 404 page, which nothing keeps (unknown ids are unbounded)."""


def _page(kind: str, inputs: Hashable, html: Callable[[], str]) -> Response:
    if FLASHES in session:
        return Response(html(), mimetype="text/html")
    rendered = public_body(kind, inputs, lambda: html().encode())
    response = Response(rendered.body, mimetype="text/html")
    response.set_etag(rendered.etag)
    # A 304 when the visitor's copy is this one (same language too: the ETag is of the bytes).
    response.make_conditional(request)  # in place, as core.http_cache does
    return response
