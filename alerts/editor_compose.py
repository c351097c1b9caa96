"""Writing an alert: the one form for a new alert, a draft, or an update of a published alert."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from core.db import db
from editors.auth import editor_required

from . import lifecycle
from .content import content_of
from .editor_forms import FormInput, component_row_count, form_errors, form_from_content, payload_from_form
from .editor_pages import acting_editor, render_alert
from .models import Alert, AlertVersion
from .schema import ValidationError
from .vocabulary import RISK_REASONS, UNITS, Certainty, MsgType, ResponseType, State, Status, Urgency


@editor_required()
def new() -> ResponseReturnValue:
    if request.method == "GET":
        return _render(None, _new_alert_values(), {})
    form = payload_from_form(request.form, current_app.config["LANGUAGES"])
    try:
        alert = lifecycle.create_alert(form.payload, acting_editor(), incident_key=form.incident_key or None)
    except ValidationError as problem:
        return _refused(None, form, problem)
    flash(_("The alert is saved as a draft."), "info")
    return redirect(url_for("editor.alert", alert_id=alert.id), 303)


@editor_required()
def edit(alert_id: int) -> ResponseReturnValue:
    alert = db.get_or_404(Alert, alert_id)
    source = _editable_source(alert)
    if source is None:
        if alert.open_version is not None:
            flash(_("The version in progress is not a draft: send it back to draft before editing it."), "error")
        else:
            flash(_("A withdrawn alert cannot be edited; write a new alert instead."), "error")
        return render_alert(alert, 409)
    if request.method == "GET":
        return _render(alert, form_from_content(content_of(source)), {})
    form = payload_from_form(request.form, current_app.config["LANGUAGES"])
    starts_update = alert.open_version is None
    try:
        # On a published alert this opens the update (a new version) with these changes.
        version = lifecycle.edit(alert, form.payload, acting_editor())
    except ValidationError as problem:
        return _refused(alert, form, problem)
    except lifecycle.WorkflowError as problem:
        flash(str(problem), "error")
        return render_alert(alert, problem.status)
    if starts_update:
        notice = _(
            "Version %(number)s is started as an update; the public still sees the published one.",
            number=version.number,
        )
        flash(notice, "info")
    else:
        flash(_("Your changes are saved."), "info")
    return redirect(url_for("editor.alert", alert_id=alert.id), 303)


def _editable_source(alert: Alert) -> AlertVersion | None:
    """What the form starts from: the open draft, or the published version an update copies."""
    version = alert.open_version
    if version is not None:
        return version if version.state == State.DRAFT else None
    public = alert.public_version
    if public is None or public.msg_type == MsgType.CANCEL:
        return None
    return public


def _refused(alert: Alert | None, form: FormInput, problem: ValidationError) -> ResponseReturnValue:
    # The form's own reading of a field (an unreadable time) says more than the validator's.
    errors = {**form_errors(problem.errors, form.component_rows), **form.errors}
    return _render(alert, request.form, errors, status=422)


def _render(
    alert: Alert | None, values: MultiDict[str, str], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    context: dict[str, Any] = {
        "alert": alert,
        "values": values,
        "errors": errors,
        "component_rows": component_row_count(values),
        "languages": current_app.config["LANGUAGES"],
        "required_languages": current_app.config["REQUIRED_LANGUAGES"],
        "risk_reasons": RISK_REASONS,
        "units": UNITS,
        "unit_options": [(unit, unit) for unit in UNITS],
        "updating": alert is not None and alert.open_version is None,
    }
    return render_template("editor/form.html", **context), status


def _new_alert_values() -> MultiDict[str, str]:
    # Defaults for a lab-confirmed pill warning; everything else starts empty.
    return MultiDict(
        {
            "status": Status.ACTUAL.value,
            "urgency": Urgency.IMMEDIATE.value,
            "certainty": Certainty.OBSERVED.value,
            "response_type": ResponseType.AVOID.value,
            "product_form": "tablet",
            "reference_unit": "mg",
        }
    )
