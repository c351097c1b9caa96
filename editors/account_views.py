"""The editor's own account under /editor/account: URL rules, the overview, what every page shares.

Two-step login is in two_step_views.py, API tokens in token_views.py. These pages show
secrets (a new token, an enrolment's key), so nothing here may be kept by any cache.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from . import token_views, two_step_views
from .auth import acting_editor, current_editor, editor_required
from .models import Role
from .totp import may_enrol

bp = Blueprint("account", __name__, url_prefix="/editor/account")


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    # What editor/_layout.html needs from every page that extends it.
    return {"me": current_editor(), "Role": Role}


@bp.after_request
def _no_store(response: Response) -> Response:
    response.cache_control.no_store = True
    return response


@editor_required()
def overview() -> ResponseReturnValue:
    editor = acting_editor()
    return render_template("editors/account.html", editor=editor, may_enrol=may_enrol(editor))


bp.add_url_rule("", "overview", overview)
bp.add_url_rule("/two-step", "two_step", two_step_views.two_step)
bp.add_url_rule("/two-step/start", "start_two_step", two_step_views.start, methods=["POST"])
bp.add_url_rule("/two-step/confirm", "confirm_two_step", two_step_views.confirm, methods=["POST"])
bp.add_url_rule("/two-step/off", "two_step_off", two_step_views.switch_off, methods=["POST"])
bp.add_url_rule("/tokens", "tokens", token_views.tokens)
bp.add_url_rule("/tokens", "create_token", token_views.create, methods=["POST"])
bp.add_url_rule("/tokens/<int:token_id>/revoke", "revoke_token", token_views.revoke_token, methods=["POST"])
