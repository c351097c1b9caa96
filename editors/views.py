"""Editor login and logout. There is deliberately no sign-up: accounts come from the CLI."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from core.extensions import limiter

from .auth import authenticate, editor_required, end_session, safe_next_path, start_session

bp = Blueprint("auth", __name__, url_prefix="/editor")

HOME = "/editor/"


class LoginForm(FlaskForm):
    email = StringField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    # The upper bound keeps a megabyte "password" from costing a megabyte of hashing.
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def _login_rate_limit() -> str:
    # Read per request, so tests and operators can change it without rebuilding the app.
    limit: str = current_app.config["LOGIN_RATE_LIMIT"]
    return limit


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    next_path = safe_next_path(request.args.get("next"))
    failed = False
    if form.validate_on_submit():
        editor = authenticate(form.email.data or "", form.password.data or "")
        if editor is not None:
            start_session(editor)
            return redirect(next_path or HOME)
        # One message for unknown email, wrong password, locked and inactive accounts alike.
        failed = True
    return render_template("editors/login.html", form=form, next_path=next_path, failed=failed)


@bp.route("/logout", methods=["POST"])
@editor_required()
def logout() -> ResponseReturnValue:
    end_session()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))
