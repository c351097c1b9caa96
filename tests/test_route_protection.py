"""Every route refuses anonymous visitors unless it is on the PUBLIC list below.

The walk covers routes added later automatically: a new /editor/ or /api/ view without
@editor_required / @token_required makes this test fail until it is protected or listed.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

# Endpoints anyone may use with any method. Exact names, or prefixes ending in "." for a
# whole blueprint. Add to these only for pages and APIs meant for the public.
PUBLIC = {
    "static",
    "auth.login",
    "health.healthz",  # load balancers' check: states and ages only
    "metrics.metrics",  # METRICS_TOKEN, or this machine only without it (tests/ops/test_metrics.py)
}
PUBLIC_PREFIXES = (
    "public.",  # public alert pages
    "photos.",  # alert photos
    "regions_api.",  # region lookups for the subscribe form
    "subscribe.",  # the subscribe page
    "push_api.",  # web push sign-up (the endpoint and manage token are the credentials), /sw.js
    "selfservice.",  # email sign-up, confirm, manage and unsubscribe links (the signed token is the key)
    "embed.",  # the alert widget, its iframe page, the venue screen and the organisers' snippet builder
    "cap.",  # CAP 1.2 documents of published versions and their Atom index
    "openapi.",  # the OpenAPI document of the public API
)
# Endpoints public for reading only (GET/HEAD): their other methods must still be refused.
# The public alert API's read endpoints belong here by exact name, e.g. "alerts_api.list_alerts".
PUBLIC_READ: set[str] = {
    "alerts_api.list_alerts",
    "alerts_api.get_alert",
    "feeds.json_feed",  # /feeds/alerts.json, .rss and .atom: public feeds
    "feeds.rss_feed",
    "feeds.atom_feed",
}

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
LOGIN_PATH = "/editor/login"

# A value of the right type for each converter, so the route matches and the view runs.
DUMMY_BY_CONVERTER = {
    "IntegerConverter": 1,
    "RowIdConverter": 1,  # core/routing.py: <int:...> bounded to a row id
    "FloatConverter": 1.0,
    "UUIDConverter": uuid.UUID(int=1),
    "PathConverter": "x/y",
}


def is_public(endpoint: str, method: str) -> bool:
    if endpoint in PUBLIC or endpoint.startswith(PUBLIC_PREFIXES):
        return True
    return endpoint in PUBLIC_READ and method in READ_METHODS


def dummy_path(rule: Rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        kind = type(converter).__name__
        if kind == "AnyConverter":
            values[name] = sorted(converter.items)[0]  # type: ignore[union-attr]
        else:
            values[name] = DUMMY_BY_CONVERTER.get(kind, "x")
    built = rule.build({**(rule.defaults or {}), **values}, append_unknown=False)
    assert built is not None, rule.rule
    return built[1]


def protected_requests(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every route and method that must refuse anonymous visitors."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if not is_public(rule.endpoint, method):
                found.append((rule.endpoint, method, dummy_path(rule)))
    return found


def test_every_non_public_route_refuses_anonymous_visitors(app: Flask, client: FlaskClient) -> None:
    # Without CSRF checks a refusal can only come from the login or token check itself;
    # a CSRF 400 would otherwise pass for protection.
    app.config["WTF_CSRF_ENABLED"] = False
    walked = protected_requests(app)
    assert ("auth.logout", "POST", "/editor/logout") in walked

    failures = []
    for endpoint, method, path in walked:
        response = client.open(path, method=method)
        if path.startswith("/api/"):
            ok = response.status_code == 401 and "Bearer" in response.headers.get("WWW-Authenticate", "")
        else:
            location = urlsplit(response.headers.get("Location", ""))
            ok = response.status_code in (302, 303) and location.path == LOGIN_PATH
        if not ok:
            failures.append(f"{method} {path} ({endpoint}) -> {response.status_code}")
    assert not failures, "reachable without logging in:\n" + "\n".join(failures)


def test_the_walk_would_catch_an_unprotected_editor_route(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    app.add_url_rule("/editor/leak/<int:alert_id>", endpoint="leak", view_func=lambda alert_id: "secret")
    leaks = [(e, m, p) for e, m, p in protected_requests(app) if e == "leak"]
    assert leaks == [("leak", "GET", "/editor/leak/1")]
    assert client.get("/editor/leak/1").status_code == 200
