"""Switching two-step login on and off, for publishers and admins.

On: a new secret is shown (as a QR code and as text) and becomes active only once a code
from the app has been typed back, so a mistyped or unscanned key never locks anyone out.
Off: the password and a current code, again.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from core.db import db
from core.extensions import limiter

from . import totp
from .auth import acting_editor, editor_required
from .forms import CodeForm, SwitchOffForm
from .login import confirm_identity, login_rate_limit
from .models import Editor

PAGE = "account.two_step"


@editor_required(before_enrolment=True)
def two_step() -> ResponseReturnValue:
    return _page(_allowed(), CodeForm(), SwitchOffForm())


@editor_required(before_enrolment=True)
def start() -> ResponseReturnValue:
    editor = _allowed()  # CSRF is checked for every POST before any view runs
    if editor.has_totp:
        flash(_("Two-step login is already on. Switch it off first to move it to another app."), "error")
    else:
        totp.start_enrolment(editor)
        db.session.commit()
    return redirect(url_for(PAGE))


@editor_required(before_enrolment=True)
def confirm() -> ResponseReturnValue:
    editor = _allowed()
    form = CodeForm()
    if form.validate_on_submit() and totp.confirm_enrolment(editor, form.code.data or ""):
        db.session.commit()
        flash(_("Two-step login is on. From now on you log in with your password and a code."), "info")
        return redirect(url_for("account.overview"))
    if form.code.data:
        form.code.errors = [_("That code does not fit. Check the time on your phone and try the next code.")]
    return _page(editor, form, SwitchOffForm(), status=422)


@editor_required(before_enrolment=True)
@limiter.limit(login_rate_limit)
def switch_off() -> ResponseReturnValue:
    editor = _allowed()
    form = SwitchOffForm()
    if not editor.has_totp:
        return redirect(url_for(PAGE))
    if form.validate_on_submit() and confirm_identity(editor, form.password.data or "", form.code.data or ""):
        totp.switch_off(editor)
        db.session.commit()
        flash(_("Two-step login is off."), "info")
        return redirect(url_for(PAGE))
    if form.password.data or form.code.data:
        form.code.errors = [_("Wrong password or code.")]
    return _page(editor, CodeForm(), form, status=422)


def _allowed() -> Editor:
    editor = acting_editor()
    # An editor demoted since enrolling may still switch off what they have.
    if not totp.may_enrol(editor) and not editor.has_totp:
        abort(403)
    return editor


def _page(editor: Editor, confirm_form: CodeForm, off_form: SwitchOffForm, status: int = 200) -> ResponseReturnValue:
    secret = totp.pending_secret(editor)
    enrolment = None
    if secret is not None:
        enrolment = {"secret": totp.grouped(secret), "qr": totp.qr_data_uri(totp.provisioning_uri(editor, secret))}
    page = render_template(
        "editors/two_step.html",
        editor=editor,
        required=totp.must_enrol(editor),
        enrolment=enrolment,
        start_form=FlaskForm(),
        confirm_form=confirm_form,
        off_form=off_form,
    )
    return page, status
