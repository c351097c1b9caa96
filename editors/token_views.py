"""An editor's API tokens in the editor UI: listed, made (the secret shown once) and revoked.

Admins may list and revoke everyone's tokens. Tokens made here get only scopes the editor's
role can use; `flask editors token` can give any.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.db import db

from .auth import acting_editor, editor_required
from .forms import TokenForm
from .models import ApiToken, Editor, Role
from .scopes import Scope, checked_scopes, scopes_for_role
from .tokens import issue_token, revoke, token_scopes, tokens_query

SCOPE_LABELS = {
    Scope.ALERTS_READ: _l("read alerts, drafts included"),
    Scope.ALERTS_WRITE: _l("write drafts and submit them for review"),
    Scope.ALERTS_PUBLISH: _l("send back, approve, publish and withdraw alerts"),
    Scope.DELIVERIES_READ: _l("read delivery statistics"),
}


@editor_required()
def tokens() -> ResponseReturnValue:
    editor = acting_editor()
    return _page(editor, _form(editor))


@editor_required()
def create() -> ResponseReturnValue:
    editor = acting_editor()
    form = _form(editor)
    if not form.validate_on_submit():
        return _page(editor, form, status=422)
    secret = issue_token(editor, (form.name.data or "").strip(), checked_scopes(form.scopes.data or []))
    # Shown in this answer only: a redirect would have to carry the secret in the session cookie.
    return _page(editor, _form(editor, fresh=True), new_token=secret)


@editor_required()
def revoke_token(token_id: int) -> ResponseReturnValue:
    editor = acting_editor()
    token = db.session.get(ApiToken, token_id)
    # Someone else's token answers like one that does not exist, except to an admin.
    if token is None or (token.editor_id != editor.id and not _sees_all(editor)):
        abort(404)
    if revoke(token):
        flash(_("Token %(prefix)s… is revoked; it stops working at once.", prefix=token.prefix), "info")
    everyone = token.editor_id != editor.id or request.args.get("all") == "1"
    return redirect(url_for("account.tokens", all="1") if everyone else url_for("account.tokens"))


def _sees_all(editor: Editor) -> bool:
    return editor.role.allows(Role.ADMIN)


def _form(editor: Editor, fresh: bool = False) -> TokenForm:
    form = TokenForm(formdata=None) if fresh else TokenForm()
    form.scopes.choices = [
        (scope.value, str(SCOPE_LABELS[scope])) for scope in Scope if scope in scopes_for_role(editor.role)
    ]
    return form


def _page(editor: Editor, form: TokenForm, new_token: str | None = None, status: int = 200) -> ResponseReturnValue:
    everyone = _sees_all(editor) and request.args.get("all") == "1"
    rows = db.session.scalars(tokens_query(None if everyone else editor)).all()
    page = render_template(
        "editors/tokens.html",
        form=form,
        rows=[(row, sorted(token_scopes(row))) for row in rows],
        everyone=everyone,
        sees_all=_sees_all(editor),
        new_token=new_token,
    )
    return page, status
