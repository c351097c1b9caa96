"""Adding and removing a draft's photos from the alert page."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from core.db import db
from editors.auth import editor_required

from . import lifecycle
from .editor_pages import acting_editor, render_alert
from .models import Alert
from .photos import PhotoError
from .schema import ValidationError


@editor_required()
def add_photo(alert_id: int) -> ResponseReturnValue:
    alert = db.get_or_404(Alert, alert_id)
    upload = request.files.get("photo")
    alt_text = {lang: request.form.get(f"alt_{lang}", "") for lang in current_app.config["LANGUAGES"]}
    side, credit = request.form.get("side", "front"), request.form.get("credit", "")
    values = {"side": side, "credit": credit, **{f"alt_{lang}": text for lang, text in alt_text.items()}}
    if upload is None or not upload.filename:
        return render_alert(alert, 422, photo_values=values, photo_errors={"photo": _("Choose a photo to upload.")})
    try:
        lifecycle.add_photo(alert, upload.read(), acting_editor(), side=side, alt_text=alt_text, credit=credit)
    except PhotoError as problem:
        db.session.rollback()
        return render_alert(alert, 422, photo_values=values, photo_errors={"photo": str(problem)})
    except ValidationError as problem:
        db.session.rollback()
        errors = {("photo" if key == "file" else key): message for key, message in problem.errors.items()}
        return render_alert(alert, 422, photo_values=values, photo_errors=errors)
    except lifecycle.WorkflowError as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return render_alert(alert, problem.status)
    flash(_("The photo is added."), "info")
    return redirect(url_for("editor.alert", alert_id=alert.id, _anchor="photos"), 303)


@editor_required()
def remove_photo(alert_id: int, photo_id: int) -> ResponseReturnValue:
    alert = db.get_or_404(Alert, alert_id)
    try:
        lifecycle.remove_photo(alert, photo_id, acting_editor())
    except lifecycle.WorkflowError as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return render_alert(alert, problem.status)
    flash(_("The photo is removed."), "info")
    return redirect(url_for("editor.alert", alert_id=alert.id, _anchor="photos"), 303)
