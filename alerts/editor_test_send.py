"""The alert page's "Send a test to me": one version to the editor's own mailbox or browser.

Any version, drafts included, so editors see the real notification or mail before publishing.
delivery/trial.py builds the job and sends it with the configured sender: no outbox row, no
subscriber row. Every attempt is in the audit log, and each editor may send a few an hour.

Email works as a plain form post; the answer is the alert page with the result. For "this
browser", static/js/test-push.js adds the browser's push subscription (checked exactly as a
sign-up is) and asks for a JSON answer, which it shows beside the button.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response, current_app, flash, jsonify, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address

from core.db import db
from core.extensions import limiter
from core.i18n import locale_code
from delivery import trial
from delivery.channels import Outcome, Recipient
from editors.auth import current_editor, editor_required
from editors.models import Editor
from subscribers.endpoints import validate_subscription
from subscribers.vapid import VapidError, vapid_keys

from . import audit
from .editor_pages import acting_editor, render_alert
from .models import Alert, AlertVersion
from .schema import ValidationError

log = logging.getLogger(__name__)

TEST_SEND_LIMIT = "10 per hour"
# A PushSubscription.toJSON() is about 300 bytes; anything much larger is not one.
MAX_SUBSCRIPTION_CHARS = 4096


class Refused(Exception):
    """The request cannot be sent as asked; the message tells the editor why."""


def template_helpers() -> dict[str, Any]:
    return {"test_push_key": test_push_key}


def test_push_key() -> str | None:
    """The VAPID public key for test-push.js, or None: the page then offers email only."""
    try:
        return vapid_keys().public_key
    except VapidError as error:
        log.info("test sends to a browser are off: %s", error)
        return None


def _editor_key() -> str:
    editor = current_editor()
    return f"editor-{editor.id}" if editor is not None else get_remote_address()


def _too_many(_limit: RequestLimit) -> Response:
    alert_id = int((request.view_args or {}).get("alert_id", 0))
    text = _("You have sent many tests in the last hour. Please wait a while before sending another.")
    return make_response(_answer(alert_id, 429, text, ok=False))


@editor_required()
@limiter.limit(TEST_SEND_LIMIT, key_func=_editor_key, on_breach=_too_many)
def test_send(alert_id: int) -> ResponseReturnValue:
    alert = db.get_or_404(Alert, alert_id)
    editor = acting_editor()
    try:
        version = _version(alert, request.form.get("version", ""))
        recipient = _recipient(request.form.get("channel", ""), editor)
    except Refused as problem:
        return _answer(alert_id, 422, str(problem), ok=False)
    message = trial.test_message(version, current_app.config["PUBLIC_URL"].rstrip("/"))
    version_id, number = version.id, version.number
    db.session.rollback()  # nothing to write yet; no transaction may stay open while sending
    result = trial.send_test(current_app._get_current_object(), message, recipient)  # type: ignore[attr-defined]
    detail = {"channel": recipient.channel.value, "version": number, "outcome": result.outcome.value}
    if result.error:
        detail["error"] = result.error
    audit.record("test_send", editor, alert_id=alert_id, version_id=version_id, **detail)
    db.session.commit()
    if result.outcome != Outcome.SENT:
        return _answer(alert_id, 502, _("The test could not be sent: %(error)s", error=result.error), ok=False)
    if recipient.email:
        done = _("The test of version %(number)s was sent to %(email)s.", number=number, email=recipient.email)
    else:
        done = _("The test of version %(number)s was sent to this browser; it appears in a moment.", number=number)
    return _answer(alert_id, 200, done, ok=True)


def _version(alert: Alert, number: str) -> AlertVersion:
    version = next((v for v in alert.versions if str(v.number) == number.strip()), None)
    if version is None:
        raise Refused(_("Choose a version of this alert to send."))
    return version


def _recipient(channel: str, editor: Editor) -> Recipient:
    language = locale_code()
    if channel == "email":
        return trial.email_recipient(editor.email, language)
    if channel != "push":
        raise Refused(_("Choose where to send the test: your email address or this browser."))
    raw = request.form.get("subscription", "")
    if not raw:
        raise Refused(_("This browser sent no push subscription. Sending to a browser needs JavaScript."))
    try:
        if len(raw) > MAX_SUBSCRIPTION_CHARS:
            raise ValueError("too long")
        payload = json.loads(raw)
    except ValueError:
        raise Refused(_("This browser's push subscription could not be read.")) from None
    try:
        info = validate_subscription(payload, current_app.config)
    except ValidationError as error:
        reasons = "; ".join(f"{field}: {reason}" for field, reason in sorted(error.errors.items()))
        raise Refused(_("This browser's push subscription was refused: %(reasons)s", reasons=reasons)) from None
    return trial.push_recipient(info, language)


def _answer(alert_id: int, status: int, text: str, *, ok: bool) -> ResponseReturnValue:
    """JSON for test-push.js; for a plain form, the alert page with the result as a message."""
    if request.accept_mimetypes.best == "application/json":
        response = jsonify({"message": text} if ok else {"error": text})
        response.status_code = status
        response.cache_control.no_store = True
        return response
    flash(text, "info" if ok else "error")
    if ok:
        return redirect(url_for("editor.alert", alert_id=alert_id, _anchor="test-send"), 303)
    return render_alert(db.get_or_404(Alert, alert_id), status)
