"""The public pages: the list of active alerts and one alert. No login, no cookies but "lang".

Only published versions are ever read here (queries.py decides which), so drafts and
versions in review cannot leak through these routes.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from core.i18n import locale_code

from . import labels, presentation, queries

bp = Blueprint("public", __name__)

# Template globals for every template, so the editor's preview can include
# public/_alert_body.html without passing helpers around.
for _name, _helper in presentation.TEMPLATE_GLOBALS.items():
    bp.add_app_template_global(_helper, _name)
bp.add_app_template_global(labels.label, "label")


@bp.get("/")
def index() -> str:
    return render_template("public/index.html", versions=queries.active_versions(), lang=locale_code())


@bp.get("/alerts/<int:alert_id>")
def alert(alert_id: int) -> str | tuple[str, int]:
    version = queries.public_version(alert_id)
    if version is None:
        return render_template("public/not_found.html"), 404
    status = queries.public_status(version)
    original = queries.withdrawn_original(version) if status == queries.PublicStatus.WITHDRAWN else None
    return render_template("public/alert.html", version=version, status=status, original=original, lang=locale_code())
