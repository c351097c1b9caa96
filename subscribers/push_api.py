"""The web-push half of subscribing: a JSON API for the subscribe page's script, and /sw.js.

POST   /api/v1/subscriptions/push         {"subscription": PushSubscription.toJSON(),
                                           "preferences": {...}} → 201 new, 200 updated
DELETE /api/v1/subscriptions/push         {"endpoint"} + manage token (X-Manage-Token header
                                           or "manage_token" in the body) → 204
POST   /api/v1/subscriptions/push/change  {"old_endpoint", "subscription"}: the service
                                           worker's pushsubscriptionchange → 200
GET    /api/v1/subscriptions/push/vapid-key  {"public_key"} for re-subscribing
GET    /sw.js                              the service worker, served from the root so its
                                           scope is the whole site

Subscriptions are upserted by endpoint: the same browser subscribing twice updates its row.
The endpoint is a capability URL (only the browser, its push service and we know it), which
is why knowing it is enough to update preferences or move it. No cookies are read, so the
blueprint is CSRF-exempt; requiring application/json makes cross-site forms impossible
anyway. We store no IP address or user agent, and never log the endpoint.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from alerts.field_checks import unknown_fields
from alerts.schema import ValidationError
from core.clock import now
from core.db import db
from core.extensions import csrf
from core.rate_limits import limited

from .endpoints import PushSubscriptionInfo, validate_subscription
from .erasure import erase
from .mails import manage_url
from .models import Channel, Subscription
from .preferences import apply_preferences, preferences_of, validate_preferences
from .tokens import manage_token, new_public_id, subscription_from_manage_token
from .vapid import VapidError, vapid_keys

bp = Blueprint("push_api", __name__)
csrf.exempt(bp)

API = "/api/v1/subscriptions/push"
# A subscription with every preference filled in is about 2 KB; anything far larger is abuse.
MAX_BODY_BYTES = 16 * 1024
TOKEN_HEADER = "X-Manage-Token"  # noqa: S105 (a header name, not a secret)


class ApiError(Exception):
    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": error.message}
    if error.fields is not None:
        body["fields"] = error.fields
    return jsonify(body), error.status


@bp.post(API)
@limited("push_api")
def subscribe() -> tuple[Response, int]:
    body = _json_body("subscription", "preferences")
    info, clean = _validated(body.get("subscription"), body.get("preferences"))
    for attempt in (1, 2):
        subscription, created = _upsert(info, clean)
        try:
            db.session.commit()
            break
        except IntegrityError:
            # Two requests for one new endpoint at once: the loser updates the winner's row.
            db.session.rollback()
            if attempt == 2:
                raise
    return _token_response(subscription, 201 if created else 200)


@bp.delete(API)
@limited("push_api")
def unsubscribe() -> Response | tuple[Response, int]:
    body = _json_body("endpoint", "manage_token")
    body_token = body.get("manage_token")
    if body_token is not None and not isinstance(body_token, str):
        raise ApiError(422, "invalid request", {"manage_token": "must be a string: the manage token"})
    token = request.headers.get(TOKEN_HEADER) or body_token
    endpoint = body.get("endpoint")
    if not isinstance(token, str) or not token:
        raise ApiError(401, f"send the manage token in the {TOKEN_HEADER} header or as manage_token")
    if not isinstance(endpoint, str) or not endpoint:
        raise ApiError(422, "invalid request", {"endpoint": "required: the subscription's endpoint"})
    subscription = subscription_from_manage_token(token)
    # A forged token, a deleted subscription and a mismatched endpoint look the same from outside.
    if subscription is None or subscription.channel != Channel.PUSH or subscription.endpoint != endpoint:
        raise ApiError(404, "no such push subscription (already turned off?)")
    erase(subscription)
    return Response(status=204)


@bp.post(f"{API}/change")
@limited("push_api")
def change() -> tuple[Response, int]:
    """The browser replaced a subscription (pushsubscriptionchange): move our row to the new one."""
    body = _json_body("old_endpoint", "subscription")
    old_endpoint = body.get("old_endpoint")
    if not isinstance(old_endpoint, str) or not old_endpoint:
        raise ApiError(422, "invalid request", {"old_endpoint": "required: the endpoint being replaced"})
    info = _validated_subscription(body.get("subscription"))
    old = _by_endpoint(old_endpoint)
    if old is None:
        raise ApiError(404, "no subscription with that old_endpoint")
    current = _by_endpoint(info.endpoint) if info.endpoint != old_endpoint else old
    if current is not None and current is not old:
        # The page subscribed the new endpoint already; that newer row and its preferences win.
        db.session.delete(old)
    else:
        current = old
        current.endpoint = info.endpoint
    current.p256dh, current.auth, current.confirmed_at = info.p256dh, info.auth, now()
    db.session.commit()
    return _token_response(current, 200)


@bp.get(f"{API}/vapid-key")
def vapid_key() -> tuple[Response, int]:
    try:
        keys = vapid_keys()
    except VapidError:
        raise ApiError(503, "web push is not set up on this server") from None
    response = jsonify({"public_key": keys.public_key})
    response.headers["Cache-Control"] = "no-cache"
    return response, 200


@bp.get("/sw.js")
def service_worker() -> Response:
    assert current_app.static_folder is not None
    # Read into memory rather than streamed: a 5 KB file, and no file handle outlives the request.
    script = (Path(current_app.static_folder) / "sw.js").read_bytes()
    response = Response(script, mimetype="application/javascript")
    # Browsers check for a new worker on navigation; no-cache makes them revalidate each time,
    # and the ETag keeps that revalidation to a 304.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    response.set_etag(hashlib.sha256(script).hexdigest()[:32])
    response.make_conditional(request)  # changes the response in place: 304 on a matching ETag
    return response


def _json_body(*known: str) -> dict[str, Any]:
    """The body as a JSON object with no members but `known` (the browser's subscription inside
    may have more: browsers add to PushSubscription.toJSON(), and those are ignored)."""
    if request.mimetype != "application/json":
        raise ApiError(415, "send the body as application/json")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        body = current_app.json.loads(raw.decode("utf-8"))  # core/security.py: no NUL, no deep nesting
    except UnicodeDecodeError:
        raise ApiError(400, "malformed JSON: the body is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise ApiError(400, f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except ValueError as error:  # nested too deeply, a number too long, a NUL character
        raise ApiError(400, f"malformed JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "malformed request: the body must be a JSON object")
    if not _numbers_in_range(body):
        # NaN and Infinity are no JSON, 1e400 is infinite as a float, and an integer past a
        # float's range overflows where the validators read it as one (circle, digest_hour).
        raise ApiError(400, "malformed JSON: a number is out of range (or NaN or Infinity)")
    unknown = unknown_fields(body, known)
    if unknown:
        raise ApiError(422, "invalid request", unknown)
    return body


def _numbers_in_range(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if isinstance(item, int) and abs(item) > sys.float_info.max:
            return False
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _validated(subscription: Any, preferences: Any) -> tuple[PushSubscriptionInfo, dict[str, Any]]:
    """Both halves checked before anything is written, so every problem is reported at once."""
    fields: dict[str, str] = {}
    info = clean = None
    try:
        info = validate_subscription(subscription, current_app.config)
    except ValidationError as error:
        fields.update(error.errors)
    try:
        clean = validate_preferences(preferences, current_app.config["LANGUAGES"])
    except ValidationError as error:
        fields.update({f"preferences.{key}" if key else "preferences": value for key, value in error.errors.items()})
    if fields or info is None or clean is None:
        raise ApiError(422, "invalid subscription or preferences", fields)
    return info, clean


def _validated_subscription(subscription: Any) -> PushSubscriptionInfo:
    try:
        return validate_subscription(subscription, current_app.config)
    except ValidationError as error:
        raise ApiError(422, "invalid subscription", error.errors) from None


def _by_endpoint(endpoint: str) -> Subscription | None:
    return db.session.scalar(
        select(Subscription).where(Subscription.endpoint == endpoint, Subscription.channel == Channel.PUSH)
    )


def _upsert(info: PushSubscriptionInfo, clean: dict[str, Any]) -> tuple[Subscription, bool]:
    subscription = _by_endpoint(info.endpoint)
    created = subscription is None
    if subscription is None:
        subscription = Subscription(public_id=new_public_id(), channel=Channel.PUSH, endpoint=info.endpoint)
        db.session.add(subscription)
    subscription.p256dh, subscription.auth = info.p256dh, info.auth
    # Pressing "turn on" is consent enough: the browser asked for permission. confirmed_at
    # records the last time the browser vouched for the endpoint (age is the only sign of a
    # dead Safari subscription).
    subscription.active, subscription.paused, subscription.confirmed_at = True, False, now()
    apply_preferences(subscription, clean)
    return subscription, created


def _token_response(subscription: Subscription, status: int) -> tuple[Response, int]:
    response = jsonify(
        {
            "manage_token": manage_token(subscription),
            "manage_url": manage_url(subscription),  # the same link the mails carry
            "preferences": preferences_of(subscription),
        }
    )
    response.headers["Cache-Control"] = "no-store"  # the token is a key to the subscription
    return response, status
