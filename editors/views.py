"""Editor login (password, then a code for accounts with a second factor) and logout.

There is deliberately no sign-up: accounts come from the CLI.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from core.extensions import limiter

from .auth import (
    ENROL_ENDPOINT,
    acting_editor,
    editor_required,
    end_every_session,
    safe_next_path,
    start_session,
)
from .forms import CodeForm, LoginForm
from .login import authenticate, begin_second_step, login_rate_limit, pass_second_step, pending_login
from .totp import must_enrol

bp = Blueprint("auth", __name__, url_prefix="/editor")

HOME = "/editor/"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    next_path = safe_next_path(request.args.get("next"))
    failed = False
    if form.validate_on_submit():
        editor = authenticate(form.email.data or "", form.password.data or "")
        if editor is not None and editor.has_totp:
            begin_second_step(editor, next_path)
            return redirect(url_for("auth.login_code"))
        if editor is not None:
            start_session(editor)
            return redirect(url_for(ENROL_ENDPOINT) if must_enrol(editor) else next_path or HOME)
        # One message for unknown email, wrong password, locked and inactive accounts alike.
        failed = True
    return render_template("editors/login.html", form=form, next_path=next_path, failed=failed)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login_code() -> ResponseReturnValue:
    pending = pending_login()
    if pending is None:
        flash(_("Log in again: the code was not asked for, or took longer than five minutes."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    failed = False
    if form.validate_on_submit():
        if pass_second_step(pending, form.code.data or ""):
            start_session(pending.editor)
            return redirect(pending.next_path or HOME)
        # The same answer for a wrong, reused or late code and for a locked account.
        failed = True
    return render_template("editors/login_code.html", form=form, failed=failed)


@bp.route("/logout", methods=["POST"])
@editor_required(before_enrolment=True)
def logout() -> ResponseReturnValue:
    end_every_session(acting_editor())
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))
