"""The subscriber's own pages, reached without an account: email sign-up, confirmation, manage
and unsubscribe links. One blueprint holding the two view modules, registered once in app.py.
"""

from __future__ import annotations

from flask import Blueprint, Response

from . import email_views, manage_views

bp = Blueprint("selfservice", __name__)
bp.register_blueprint(email_views.bp)
bp.register_blueprint(manage_views.bp)


@bp.after_request
def _no_store(response: Response) -> Response:
    # These pages carry personal links and preferences: no browser or proxy cache keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response
