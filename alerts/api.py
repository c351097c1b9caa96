"""/api/v1/alerts: the JSON API. Public reads (api_public.py) and token-holders' writes (here).

Writes go through alerts/lifecycle.py, exactly as the editor UI does, so roles, four-eyes and
the immutability of published versions hold the same way for a lab system as for a person.
Token views read only the bearer token: a logged-in browser session counts for nothing here,
which is also why the blueprint can be exempt from CSRF.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge

from core.db import db
from core.extensions import csrf
from core.rate_limits import limited
from editors.scopes import Scope
from editors.tokens import api_actor, token_required

from . import api_public, lifecycle
from .api_json import absolute, editor_alert, photo_json
from .api_request import MULTIPART_OVERHEAD_BYTES, json_body, limit, only, text
from .delivery_report import delivery_report
from .models import Alert, AlertPhoto
from .photos import PhotoError
from .schema import CONTENT_KEYS, ValidationError

bp = Blueprint("alerts_api", __name__, url_prefix="/api/v1/alerts")
csrf.exempt(bp)

# GET and POST on one URL are separate endpoints, so the public ones can be listed by name.
PUBLIC_ENDPOINTS = frozenset({"alerts_api.list_alerts", "alerts_api.get_alert"})


# --- token holders -----------------------------------------------------------------------


@token_required(scope=Scope.ALERTS_WRITE)
def create_alert() -> Response:
    payload = json_body()
    incident_key = payload.pop("incident_key", None)
    if incident_key is not None and not isinstance(incident_key, str):
        raise ValidationError({"incident_key": "must be text"})
    only(payload, CONTENT_KEYS)
    alert = lifecycle.create_alert(payload, api_actor(), incident_key=incident_key)
    response = _editor_view(alert, 201)
    # Where the new alert can be read back; /api/v1/alerts/<id> stays 404 until it is published.
    response.headers["Location"] = absolute(url_for("alerts_api.get_draft", alert_id=alert.id))
    return response


@token_required(scope=Scope.ALERTS_READ)
def get_draft(alert_id: int) -> Response:
    return _editor_view(_alert(alert_id))


@token_required(scope=Scope.ALERTS_WRITE)
def patch_alert(alert_id: int) -> Response:
    return _edit(alert_id, partial=True)


@token_required(scope=Scope.ALERTS_WRITE)
def replace_alert(alert_id: int) -> Response:
    return _edit(alert_id, partial=False)


def _edit(alert_id: int, partial: bool) -> Response:
    alert = _alert(alert_id)
    payload = json_body()
    if "incident_key" in payload:
        raise ValidationError({"incident_key": "cannot be changed once the alert exists"})
    only(payload, CONTENT_KEYS)
    lifecycle.edit(alert, payload, api_actor(), partial=partial)
    return _editor_view(alert)


# Roles are checked by lifecycle (NotAllowed → 403), not by the decorator, so there is one
# rule book for the UI and the API.
@token_required(scope=Scope.ALERTS_WRITE)
def submit(alert_id: int) -> Response:
    alert = _alert(alert_id)
    only(json_body(required=False), set())
    lifecycle.submit(alert, api_actor())
    return _editor_view(alert)


@token_required(scope=Scope.ALERTS_PUBLISH)
def send_back(alert_id: int) -> Response:
    alert = _alert(alert_id)
    body = json_body(required=False)
    only(body, {"note"})
    lifecycle.send_back(alert, api_actor(), text(body, "note"))
    return _editor_view(alert)


@token_required(scope=Scope.ALERTS_PUBLISH)
def approve(alert_id: int) -> Response:
    alert = _alert(alert_id)
    only(json_body(required=False), set())
    lifecycle.approve(alert, api_actor())
    return _editor_view(alert)


@token_required(scope=Scope.ALERTS_PUBLISH)
def publish(alert_id: int) -> Response:
    alert = _alert(alert_id)
    only(json_body(required=False), set())
    lifecycle.publish(alert, api_actor())
    return _editor_view(alert)


@token_required(scope=Scope.ALERTS_PUBLISH)
def withdraw(alert_id: int) -> Response:
    alert = _alert(alert_id)
    body = json_body()
    only(body, {"reason", "note"})
    lifecycle.withdraw(alert, api_actor(), text(body, "reason"), text(body, "note"))
    return _editor_view(alert)


@token_required(scope=Scope.ALERTS_WRITE)
def add_photo(alert_id: int) -> Response:
    alert = _alert(alert_id)
    request.max_content_length = limit(current_app.config["PHOTO_MAX_BYTES"] + MULTIPART_OVERHEAD_BYTES)
    upload = request.files.get("file")
    if upload is None:
        raise PhotoError("send the photo as the multipart/form-data field 'file'")
    languages: list[str] = current_app.config["LANGUAGES"]
    alt_text = {lang: request.form[f"alt_{lang}"] for lang in languages if request.form.get(f"alt_{lang}")}
    photo = lifecycle.add_photo(
        alert,
        upload.read(),
        api_actor(),
        side=request.form.get("side") or "front",
        alt_text=alt_text,
        credit=request.form.get("credit", ""),
    )
    response = jsonify(photo={"id": photo.id, **photo_json(photo)}, alert=editor_alert(alert))
    response.status_code = 201
    return response


@token_required(scope=Scope.ALERTS_WRITE)
def remove_photo(alert_id: int, photo_id: int) -> Response:
    alert = _alert(alert_id)
    photo = db.session.get(AlertPhoto, photo_id)
    if photo is None or photo.version.alert_id != alert.id:
        raise NotFound("no photo with this id on this alert")
    lifecycle.remove_photo(alert, photo_id, api_actor())
    return _editor_view(alert)


@token_required(scope=Scope.DELIVERIES_READ)
def deliveries(alert_id: int) -> Response:
    """Delivery statistics per published version, counted from the outbox rows."""
    return jsonify(delivery_report(_alert(alert_id)))


# --- URL rules ---------------------------------------------------------------------------

# The public reads count against the same per-client limit as the feeds (core/rate_limits.py).
bp.add_url_rule("", "list_alerts", limited("feeds")(api_public.list_alerts), methods=["GET"])
bp.add_url_rule("", "create_alert", create_alert, methods=["POST"])
bp.add_url_rule("/<int:alert_id>", "get_alert", limited("feeds")(api_public.get_alert), methods=["GET"])
bp.add_url_rule("/<int:alert_id>", "patch_alert", patch_alert, methods=["PATCH"])
bp.add_url_rule("/<int:alert_id>", "replace_alert", replace_alert, methods=["PUT"])
bp.add_url_rule("/<int:alert_id>/draft", "get_draft", get_draft, methods=["GET"])
bp.add_url_rule("/<int:alert_id>/submit", "submit", submit, methods=["POST"])
bp.add_url_rule("/<int:alert_id>/send-back", "send_back", send_back, methods=["POST"])
bp.add_url_rule("/<int:alert_id>/approve", "approve", approve, methods=["POST"])
bp.add_url_rule("/<int:alert_id>/publish", "publish", publish, methods=["POST"])
bp.add_url_rule("/<int:alert_id>/withdraw", "withdraw", withdraw, methods=["POST"])
bp.add_url_rule("/<int:alert_id>/deliveries", "deliveries", deliveries, methods=["GET"])
bp.add_url_rule("/<int:alert_id>/photos", "add_photo", add_photo, methods=["POST"])
bp.add_url_rule("/<int:alert_id>/photos/<int:photo_id>", "remove_photo", remove_photo, methods=["DELETE"])


@bp.after_request
def _headers(response: Response) -> Response:
    if request.endpoint in PUBLIC_ENDPOINTS and request.method in ("GET", "HEAD"):
        # Anyone may read published alerts from any site (widgets, other services). Token
        # endpoints get no CORS header at all, so no browser script elsewhere can call them.
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        # Drafts and editor views must not stay in shared caches or the browser's.
        response.cache_control.no_store = True
    return response


# --- errors: JSON for this blueprint only ------------------------------------------------


@bp.errorhandler(ValidationError)
def _invalid(error: ValidationError) -> tuple[Response, int]:
    return jsonify(error="invalid input", fields=error.errors), 422


@bp.errorhandler(PhotoError)
def _bad_photo(error: PhotoError) -> tuple[Response, int]:
    return jsonify(error="invalid input", fields={"file": str(error)}), 422


@bp.errorhandler(lifecycle.WorkflowError)
def _refused(error: lifecycle.WorkflowError) -> tuple[Response, int]:
    # NotAllowed is a WorkflowError with status 403; every other one is a 409 conflict.
    return jsonify(error=str(error)), error.status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[Response, int]:
    if isinstance(error, RequestEntityTooLarge):
        allowed = request.max_content_length
        message = f"the body is larger than the {allowed} bytes this endpoint accepts" if allowed else "body too large"
        return jsonify(error=message), 413
    return jsonify(error=error.description), error.code or 500


# --- helpers -----------------------------------------------------------------------------


def _alert(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("no alert with this id")
    return alert


def _editor_view(alert: Alert, status: int = 200) -> Response:
    response = jsonify(editor_alert(alert))
    response.status_code = status
    return response
