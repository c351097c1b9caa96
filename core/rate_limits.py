"""Abuse limits on the public endpoints (Flask-Limiter), and the 429 answer.

Each group of public endpoints has one limit per client, read from the config on every request
("" = no limit), so operators and tests change it without rebuilding the app:

| group     | config key            | endpoints                                                   |
|-----------|-----------------------|-------------------------------------------------------------|
| subscribe | RATE_LIMIT_SUBSCRIBE  | email sign-up (form and API)                                |
| confirm   | RATE_LIMIT_CONFIRM    | the confirmation link (page and button)                     |
| manage    | RATE_LIMIT_MANAGE     | manage links, pause, leave, export, unsubscribe, one-click  |
| push_api  | RATE_LIMIT_PUSH_API   | push subscribe, change, delete                              |
| feeds     | RATE_LIMIT_FEEDS      | JSON/RSS/Atom feeds, CAP, embed and screen, regions, OpenAPI,|
|           |                       | the public reads of /api/v1/alerts                          |

A group's endpoints share one counter, so spreading a burst over its URLs gains nothing.

The client is keyed by an HMAC of its address (core/extensions.client_key), so the limiter's
storage holds no address, and what it holds expires with the window. Behind a reverse proxy
set PROXY_FIX_X_FOR, or every visitor shares the proxy's address and one busy festival
exhausts the limits of all.
"""

from __future__ import annotations

import math
import time
from datetime import timedelta

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded, RouteLimit
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import limiter

GROUPS = {
    "subscribe": "RATE_LIMIT_SUBSCRIBE",
    "confirm": "RATE_LIMIT_CONFIRM",
    "manage": "RATE_LIMIT_MANAGE",
    "push_api": "RATE_LIMIT_PUSH_API",
    "feeds": "RATE_LIMIT_FEEDS",
}


def limited(group: str) -> RouteLimit:
    """Decorate a view, or call with a blueprint, to count it against `group`'s limit per client."""
    config_key = GROUPS[group]

    def configured() -> str:
        value: str = current_app.config[config_key] or ""
        return value

    return limiter.shared_limit(configured, scope=group)


def install(app: Flask) -> None:
    """The proxy's forwarded address (if configured) and the 429 answer; refuses a limit it cannot read."""
    for key in GROUPS.values():
        if app.config[key]:
            try:
                parse_many(app.config[key])
            except ValueError:
                # Found now rather than as a 500 on every request of the group.
                raise ValueError(f'{key} = {app.config[key]!r} is no limit; write e.g. "10 per minute" or ""') from None
    hops = int(app.config["PROXY_FIX_X_FOR"] or 0)
    if hops > 0:
        # Trust exactly that many X-Forwarded-For entries: a client can prepend any it likes.
        # The nearest proxy terminates TLS and says so in X-Forwarded-Proto (docs/deployment.md):
        # without it every request looks like plain http, and no page gets HSTS.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=1, x_host=0, x_port=0, x_prefix=0)  # type: ignore[method-assign]
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def too_many_requests(error: RateLimitExceeded) -> ResponseReturnValue:
    if error.response is not None:
        # A view's own on_breach answer (the editors' test sends) stays as it is.
        return error.response
    seconds = _retry_after(error)
    wait = format_timedelta(timedelta(seconds=seconds), threshold=1, add_direction=False)
    description = _("There were too many requests from your address. Please try again in %(wait)s.", wait=wait)
    if _wants_json():
        response = jsonify(error="too_many_requests", description=description)
    else:
        title = _("Too many requests")
        # The subscriber pages' plain message page: a heading, one paragraph, a way back.
        response = Response(render_template("subscribers/message.html", title=title, text=description))
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    # Feeds are cacheable by CDNs; one client's 429 must never be served to everyone else.
    response.headers["Cache-Control"] = "no-store"
    return response


def _retry_after(error: RateLimitExceeded) -> int:
    """Whole seconds until the breached window resets (at least 1)."""
    breached = limiter.current_limit
    if breached is not None and breached.breached:
        return max(1, math.ceil(breached.window.reset_time - time.time()))
    return max(1, int(error.limit.limit.get_expiry()))


def _wants_json() -> bool:
    if request.path.startswith("/api/") or request.path.endswith(".json") or request.is_json:
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
