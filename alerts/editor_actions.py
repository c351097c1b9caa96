"""The workflow buttons: each one a POST that calls one lifecycle function and nothing else.

A refusal re-shows the alert page with the lifecycle's reason and its status (403 for a role
or the four-eyes rule, 409 for the wrong state, 422 for a bad withdrawal reason), so the
editor sees why right where they pressed the button.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from core.db import db
from editors.auth import editor_required
from editors.models import Editor, Role

from . import lifecycle
from .editor_pages import acting_editor, local_time, render_alert
from .models import Alert, AlertVersion
from .schema import ValidationError
from .vocabulary import State

Step = Callable[[Alert, Editor], AlertVersion]


def _act(
    alert_id: int, step: Step, done: Callable[[AlertVersion], str], then: str = "editor.alert"
) -> ResponseReturnValue:
    alert = db.get_or_404(Alert, alert_id)
    try:
        version = step(alert, acting_editor())
    except lifecycle.WorkflowError as problem:  # NotAllowed too, with its own status
        db.session.rollback()
        flash(str(problem), "error")
        return render_alert(alert, problem.status)
    except ValidationError as problem:
        db.session.rollback()
        for message in problem.errors.values():
            flash(message, "error")
        return render_alert(alert, 422)
    flash(done(version), "info")
    return redirect(url_for(then, alert_id=alert.id), 303)


@editor_required()
def submit(alert_id: int) -> ResponseReturnValue:
    return _act(alert_id, lifecycle.submit, lambda v: _("Version %(number)s is submitted for review.", number=v.number))


@editor_required()
def start_update(alert_id: int) -> ResponseReturnValue:
    # An update is only ever started to change something: go straight to the form.
    return _act(
        alert_id,
        lifecycle.start_update,
        lambda v: _("Version %(number)s is started as an update of the published alert.", number=v.number),
        then="editor.edit",
    )


@editor_required(Role.PUBLISHER)
def send_back(alert_id: int) -> ResponseReturnValue:
    note = request.form.get("note", "")
    return _act(
        alert_id,
        lambda alert, me: lifecycle.send_back(alert, me, note),
        lambda v: _("Version %(number)s is back in draft.", number=v.number),
    )


@editor_required(Role.PUBLISHER)
def approve(alert_id: int) -> ResponseReturnValue:
    return _act(alert_id, lifecycle.approve, lambda v: _("Version %(number)s is approved.", number=v.number))


@editor_required(Role.PUBLISHER)
def publish(alert_id: int) -> ResponseReturnValue:
    def done(version: AlertVersion) -> str:
        if version.state == State.SCHEDULED:
            return _(
                "Version %(number)s will be published at %(time)s.",
                number=version.number,
                time=local_time(version.publish_at),
            )
        return _("Version %(number)s is published.", number=version.number)

    return _act(alert_id, lifecycle.publish, done)


@editor_required(Role.PUBLISHER)
def withdraw(alert_id: int) -> ResponseReturnValue:
    reason, note = request.form.get("reason", ""), request.form.get("note", "")
    return _act(
        alert_id,
        lambda alert, me: lifecycle.withdraw(alert, me, reason, note),
        lambda v: _("The alert is withdrawn; the withdrawal notice is version %(number)s.", number=v.number),
    )
