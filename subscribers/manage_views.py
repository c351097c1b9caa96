"""What a subscriber can do with their link, for either channel: change, pause, leave, export.

GET  /manage/<token>             the preferences in the sign-up form's fields, filled in
POST /manage/<token>             save changed preferences
POST /manage/<token>/pause       stop alerts for now; /resume starts them again
POST /manage/<token>/leave       delete the subscription and its areas (a real DELETE)
GET  /manage/<token>/export      everything stored about the subscriber, as a JSON download
GET  /unsubscribe/<token>        a page with a button: a GET never unsubscribes (mail scanners)
POST /unsubscribe/<token>        RFC 8058 one-click unsubscribe from mail clients: no login,
                                 no CSRF token, idempotent

The token is the only key (tokens.py); a wrong one gets the same 404 as a deleted subscription.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from alerts.schema import ValidationError
from core import clock
from core.db import db
from core.extensions import csrf
from core.rate_limits import limited

from .email_signup import mask_address
from .erasure import erase
from .models import Channel, Subscription
from .preference_form import form_context, form_values
from .preferences import apply_preferences, from_form, preferences_of, validate_preferences
from .tokens import public_id_from_unsubscribe_token, subscription_from_manage_token

bp = Blueprint("manage", __name__)


@bp.errorhandler(NotFound)
def _unknown_link(_error: NotFound) -> ResponseReturnValue:
    return message_page(
        _("Link not found"),
        _("This link does not lead to a subscription. It may be mistyped, or the subscription has been deleted."),
        status=404,
    )


def _subscription(token: str) -> Subscription:
    subscription = subscription_from_manage_token(token)
    if subscription is None:
        abort(404)
    return subscription


@bp.get("/manage/<token>")
@limited("manage")
def page(token: str) -> ResponseReturnValue:
    subscription = _subscription(token)
    return _manage_page(subscription, token, form_values(preferences_of(subscription)))


@bp.post("/manage/<token>")
@limited("manage")
def save(token: str) -> ResponseReturnValue:
    subscription = _subscription(token)
    try:
        clean = validate_preferences(from_form(request.form), current_app.config["LANGUAGES"])
    except ValidationError as error:
        return _manage_page(subscription, token, request.form, error.errors), 422
    apply_preferences(subscription, clean)
    db.session.commit()
    flash(_("Your choices are saved."), "info")
    return redirect(url_for(".page", token=token), 303)


@bp.post("/manage/<token>/pause")
@limited("manage")
def pause(token: str) -> ResponseReturnValue:
    return _set_paused(token, True, _("Alerts are paused. Resume them here whenever you like."))


@bp.post("/manage/<token>/resume")
@limited("manage")
def resume(token: str) -> ResponseReturnValue:
    return _set_paused(token, False, _("Alerts are on again."))


def _set_paused(token: str, paused: bool, message: str) -> ResponseReturnValue:
    subscription = _subscription(token)
    subscription.paused = paused
    db.session.commit()
    flash(message, "info")
    return redirect(url_for(".page", token=token), 303)


@bp.post("/manage/<token>/leave")
@limited("manage")
def leave(token: str) -> ResponseReturnValue:
    erase(_subscription(token))
    return _gone_page()


@bp.get("/manage/<token>/export")
@limited("manage")
def export(token: str) -> ResponseReturnValue:
    body = json.dumps(export_of(_subscription(token)), indent=2, ensure_ascii=False)
    return Response(
        body + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="signaal-subscription.json"'},
    )


@bp.get("/unsubscribe/<token>")
@limited("manage")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    public_id = public_id_from_unsubscribe_token(token)
    if public_id is None:
        abort(404)
    subscription = _by_public_id(public_id)
    if subscription is None:
        return _gone_page()
    return render_template("subscribers/unsubscribe.html", token=token, address=mask_address(subscription.email))


@bp.post("/unsubscribe/<token>")
@limited("manage")
@csrf.exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no cookies or form token
def unsubscribe(token: str) -> ResponseReturnValue:
    public_id = public_id_from_unsubscribe_token(token)
    if public_id is None:
        abort(404)
    subscription = _by_public_id(public_id)
    if subscription is not None:
        erase(subscription)
    # 200 again for a subscription already gone: the request is repeated, not wrong.
    return _gone_page()


def export_of(subscription: Subscription) -> dict[str, Any]:
    """Everything stored about one subscriber (GDPR art. 15 and 20), in plain JSON."""
    s = subscription
    data: dict[str, Any] = {"channel": Channel(s.channel).value}
    if s.channel == Channel.EMAIL:
        data["email"] = s.email
    else:
        data["push"] = {"endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}}
    data.update(
        active=s.active,
        paused=s.paused,
        created_at=_iso(s.created_at),
        updated_at=_iso(s.updated_at),
        confirmed_at=_iso(s.confirmed_at),
        preferences=preferences_of(s),
        # Stored too: the municipalities the circle reaches, derived from it for matching.
        areas_reached_by_circle=sorted(a.code for a in s.areas if a.derived),
        exported_at=_iso(clock.now()),
    )
    return data


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _by_public_id(public_id: str) -> Subscription | None:
    return db.session.scalar(select(Subscription).where(Subscription.public_id == public_id))


def _manage_page(
    subscription: Subscription, token: str, values: MultiDict[str, str], errors: dict[str, str] | None = None
) -> str:
    return render_template(
        "subscribers/manage.html",
        subscription=subscription,
        token=token,
        address=mask_address(subscription.email),
        **form_context(values, errors),
    )


def _gone_page() -> ResponseReturnValue:
    return message_page(
        _("Your subscription is deleted"),
        _("You will get no more alerts from us, and we no longer keep anything about you."),
    )


def message_page(title: str, text: str, status: int = 200) -> ResponseReturnValue:
    """A page with a heading and one paragraph: the end of most subscriber paths."""
    return render_template("subscribers/message.html", title=title, text=text), status
