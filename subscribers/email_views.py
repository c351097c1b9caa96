"""Email sign-up (form and JSON API) and the confirmation link.

POST /subscribe/email                 the subscribe page's form → 303 to "check your mailbox"
POST /api/v1/subscriptions/email      {"email", "preferences": {...}} → 202
GET  /subscribe/confirm/<token>       a page with a Confirm button (mail scanners follow links)
POST /subscribe/confirm/<token>       confirms, shows the manage link

Both sign-ups answer alike for new, pending and confirmed addresses (email_signup explains
why); only bad input (422) or a mail server that fails (503) changes the answer, and those
do not depend on who is subscribed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from alerts.field_checks import unknown_fields
from alerts.labels import label
from alerts.schema import ValidationError
from core.extensions import csrf
from core.rate_limits import limited

from .email_signup import confirm, mask_address, normalise_address, sign_up
from .mailer import MailError
from .mails import manage_url
from .manage_views import message_page
from .preferences import from_form, preferences_of, validate_preferences
from .subscribe_views import render_subscribe_page
from .tokens import subscription_from_confirm_token

bp = Blueprint("email", __name__)

# An address with every preference filled in is about 2 KB; anything far larger is abuse.
MAX_BODY_BYTES = 16 * 1024


def _validate(address: Any, preferences: Any) -> tuple[str, dict[str, Any]]:
    """Both checks at once, so every bad field is named in one answer."""
    errors: dict[str, str] = {}
    clean_address, clean_preferences = "", {}
    try:
        clean_address = normalise_address(address)
    except ValidationError as error:
        errors.update(error.errors)
    try:
        clean_preferences = validate_preferences(preferences, current_app.config["LANGUAGES"])
    except ValidationError as error:
        errors.update({key or "preferences": message for key, message in error.errors.items()})
    if errors:
        raise ValidationError(errors)
    return clean_address, clean_preferences


@bp.post("/subscribe/email")
@limited("subscribe")
def signup_form() -> ResponseReturnValue:
    try:
        address, preferences = _validate(request.form.get("email"), from_form(request.form))
    except ValidationError as error:
        return render_subscribe_page(values=request.form, errors=error.errors), 422
    try:
        sign_up(address, preferences)
    except MailError:
        return message_page(
            _("The mail could not be sent"),
            _("Our mail server did not take the message. Please try again in a while."),
            status=503,
        )
    # Post/redirect/get: reloading the page must not send another mail.
    return redirect(url_for(".check_mailbox"), 303)


@bp.get("/subscribe/email/sent")
def check_mailbox() -> ResponseReturnValue:
    return message_page(
        _("Check your mailbox"),
        _(
            "We sent a mail to the address you entered. Follow its link to confirm; until then you get "
            "nothing else from us. No mail? Look in your spam folder, or sign up again."
        ),
    )


@bp.post("/api/v1/subscriptions/email")
@limited("subscribe")
@csrf.exempt  # JSON only, reads no cookies: nothing for a cross-site form to ride on
def signup_api() -> ResponseReturnValue:
    # A chunked body has no Content-Length: what counts is what arrives.
    if (request.content_length or 0) > MAX_BODY_BYTES or len(request.get_data(cache=True)) > MAX_BODY_BYTES:
        return _api_error(_("The request is too large."), {"": f"at most {MAX_BODY_BYTES} bytes"}, 413)
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        return _api_error(_("Send a JSON object with email and preferences."), {"": "must be a JSON object"}, 422)
    unknown = unknown_fields(body, ("email", "preferences"))
    if unknown:
        return _api_error(_("The sign-up has errors."), unknown, 422)
    try:
        address, preferences = _validate(body.get("email"), body.get("preferences"))
    except ValidationError as error:
        return _api_error(_("The sign-up has errors."), error.errors, 422)
    try:
        sign_up(address, preferences)
    except MailError:
        return _api_error(_("The confirmation mail could not be sent. Please try again later."), {}, 503)
    return jsonify(
        status="check_mailbox",
        message=_("Check your mailbox: follow the link in our mail to confirm your subscription."),
    ), 202


def _api_error(message: str, fields: dict[str, str], status: int) -> ResponseReturnValue:
    return jsonify(error=message, fields=fields), status


@bp.get("/subscribe/confirm/<token>")
@limited("confirm")
def confirm_page(token: str) -> ResponseReturnValue:
    subscription = subscription_from_confirm_token(token)
    if subscription is None:
        return _invalid_link()
    return render_template(
        "subscribers/confirm.html",
        token=token,
        address=mask_address(subscription.email),
        where=_where(preferences_of(subscription)),
        level=label("level", preferences_of(subscription)["min_level"]),
        confirmed=subscription.confirmed_at is not None,
    )


@bp.post("/subscribe/confirm/<token>")
@limited("confirm")
def confirm_subscription(token: str) -> ResponseReturnValue:
    subscription = subscription_from_confirm_token(token)
    if subscription is None:
        return _invalid_link()
    confirm(subscription)
    return render_template(
        "subscribers/confirmed.html",
        address=mask_address(subscription.email),
        manage_url=manage_url(subscription),
    )


def _where(preferences: dict[str, Any]) -> str:
    parts = list(preferences["areas"])
    circle = preferences["circle"]
    if circle:
        km = f"{circle['radius_km']:g}"
        parts.append(_("%(km)s km around %(lat)s, %(lon)s", km=km, lat=circle["lat"], lon=circle["lon"]))
    return ", ".join(parts)


def _invalid_link() -> ResponseReturnValue:
    hours = int(current_app.config["CONFIRM_TOKEN_HOURS"])
    return message_page(
        _("This confirmation link does not work"),
        _(
            "The link is older than %(hours)d hours, or it was not copied completely. Nothing has changed: "
            "sign up again to get a new link.",
            hours=hours,
        ),
        status=400,
    )
