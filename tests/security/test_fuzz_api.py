"""Fuzzing the JSON API with schemathesis, against the OpenAPI document the app serves.

Every operation in /api/v1/openapi.json, the public reads, the token holders' workflow, the
browsers' push subscriptions and the email sign-up alike, gets the document's examples,
schemathesis's coverage cases (boundaries, missing and mistyped values, other methods) and
generated valid and invalid requests, on SQLite and on PostgreSQL, against a register holding
alerts in every state and a push subscription at the document's example endpoint. Each answer
must be no 5xx and match the document: a listed status code, its content type, body schema and
required headers; input the document calls invalid must be refused; a token operation must
refuse a request without a valid token. The run is the same every time (derandomized) and takes
about 45 s on two cores.

A push endpoint is checked when it is subscribed by resolving its host (subscribers/endpoints.py);
here that resolver answers as on a machine without DNS (the allowed push services pass, as they
do there), and any other name lookup fails the run: no request leaves this machine. An email
sign-up mails its confirmation link: here to an SMTP server on loopback (tests/subscribers/
smtp_server.py), which keeps what it is given.

Not checked: that every request the schema allows is accepted (positive_data_acceptance). An
alert's rules go beyond JSON Schema (expires after effective, known region codes, the required
languages, plain text only), and so do a push subscription's (keys on the curve, an allowed
push service, known region codes) and an email address's, so a schema-valid body may rightly
get a 422.
"""

from __future__ import annotations

import functools
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from alerts import lifecycle
from app import create_app
from core.routing import MAX_ROW_ID
from editors.models import Role
from editors.scopes import Scope
from editors.tokens import issue_token
from subscribers import endpoints
from subscribers.push_api import TOKEN_HEADER
from subscribers.tokens import manage_token
from subscribers.vapid import generate_pair
from tests.alert_payloads import audi_payload
from tests.factories import make_editor, make_subscription
from tests.feeds.made_alerts import jpeg, make_team, publish_new, withdraw
from tests.subscribers.smtp_server import SmtpServer
from tests.subscribers.test_endpoints import dns

OPENAPI = "/api/v1/openapi.json"
# Generated requests per operation, on top of the examples and the coverage cases.
FUZZ_EXAMPLES = 20
# The operations that take a whole alert get more, in place of their coverage cases (below).
CONTENT_FUZZ_EXAMPLES = 50
# An alert's rules go beyond what a schema says (see the module docstring).
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance]
CONTENT_OPERATIONS = ["createAlert", "changeAlert", "replaceAlert"]
# The push subscription operations are cheap, and nearly every generated body stops at validation.
# The email sign-up (subscribeEmail) keeps FUZZ_EXAMPLES: a generated address is hardly ever a
# real one, so its sign-ups that pass (and mail) come from the coverage cases built on the
# document's examples, and more generated bodies would only repeat the validation.
PUSH_FUZZ_EXAMPLES = 50
PUSH_OPERATIONS = ["subscribePush", "unsubscribePush", "changePushSubscription"]
CONFIG = {
    "generation": {"max-examples": FUZZ_EXAMPLES},
    "operations": [
        {
            # The coverage phase sends ~600 requests to each operation that takes a whole alert
            # (every field missing, mistyped, at and past its bounds): a minute of the run for
            # these three alone. They get more generated valid and invalid alerts instead.
            "include-operation-id": CONTENT_OPERATIONS,
            "phases": {"coverage": {"enabled": False}},
            "generation": {"max-examples": CONTENT_FUZZ_EXAMPLES},
        },
        {"include-operation-id": PUSH_OPERATIONS, "generation": {"max-examples": PUSH_FUZZ_EXAMPLES}},
    ],
}
ALERT_IDS = 6  # what fuzz_api_register makes
PHOTO_IDS = 2
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


class CurrentApp:
    """The WSGI app schemathesis calls: the app of the test running now (SQLite or PostgreSQL).

    Schemathesis builds its tests when this module is collected, before any database exists,
    so the schema is loaded from an app without one and each test points this at its own.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return self.app.wsgi_app(environ, start_response)


_LOADER = create_app(
    {
        "TESTING": True,
        "DATABASE_URL": "sqlite://",
        "SECRET_KEY": "fuzz-schema-loader",
        "PUBLIC_URL": "https://signaal.test",
        "SCHEDULER_IN_WEB": False,
        "DELIVERY_IN_WEB": False,
    }
)
TARGET = CurrentApp(_LOADER)
schema = schemathesis.openapi.from_wsgi(OPENAPI, TARGET, config=schemathesis.Config.from_dict(CONFIG))


@schema.hook
def map_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any] | None) -> Any:
    """Valid ids fall on the register's rows and one past them: drawn from 1 to 2^31-1 they would
    almost never name a row, and the workflow would go untested. Invalid ones stay as drawn."""
    if not path_parameters:
        return path_parameters
    folded = dict(path_parameters)
    for name, count in (("id", ALERT_IDS), ("photo_id", PHOTO_IDS)):
        value = folded.get(name)
        if type(value) is int and 1 <= value <= MAX_ROW_ID:
            folded[name] = 1 + (value - 1) % (count + 1)
    return folded


def _example(path: str, method: str) -> Any:
    """The document's (first) example request body of an operation."""
    content = schema.raw_schema["paths"][path][method]["requestBody"]["content"]["application/json"]
    return next(iter(content["examples"].values()))["value"]


# The subscription the document's examples turn off and move to a new endpoint; the register has it.
EXAMPLE_ENDPOINT = _example("/api/v1/subscriptions/push", "delete")["endpoint"]
EXAMPLE_MANAGE_TOKEN = schema.raw_schema["components"]["parameters"]["ManageToken"]["example"]
assert _example("/api/v1/subscriptions/push/change", "post")["old_endpoint"] == EXAMPLE_ENDPOINT


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No name is resolved (so nothing is sent) but this machine's own."""
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in LOOPBACK_NAMES:
            return real_getaddrinfo(host, *args, **kwargs)
        raise AssertionError(f"the fuzz run looked up {host!r}: no request may leave this machine")

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    # The endpoint check answers as on a machine without DNS: allowed push services pass.
    monkeypatch.setattr(endpoints, "check_endpoint", functools.partial(endpoints.check_endpoint, resolve=dns({})))


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    """Where the sign-ups' mails go: a server on this machine's loopback, one for the whole run."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@dataclass
class FuzzedRegister:
    token: str
    manage_token: str  # of the push subscription at the document's example endpoint


@pytest.fixture
def fuzz_api_register(app: Flask, offline: None, smtp_server: SmtpServer) -> Iterator[FuzzedRegister]:
    """Alerts 1-6 in every state, by a writer and a publisher, so the token may review them;
    a push subscription at the document's example endpoint, web push set up, and mail sent
    to the loopback server."""
    # The document fuzzed is the one this app serves, not just the one the loader served.
    assert app.test_client().get(OPENAPI).get_json() == schema.raw_schema
    app.config["VAPID_PRIVATE_KEY"] = generate_pair()[0]
    app.config.update(
        MAIL_BACKEND="smtp",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        SMTP_TLS="none",
        SMTP_USERNAME="",
        SMTP_PASSWORD="",
    )
    # Hundreds of requests a minute from one client: past the limit all would be 429s (tested on
    # their own in test_rate_limits.py), and nothing behind it would be fuzzed. Likewise the one
    # sign-up mail per mailbox and window (test_signup_mail_limit.py): with it, every sign-up of
    # the examples' addresses but the first would stop before the mail.
    app.config.update(RATE_LIMIT_PUSH_API="", RATE_LIMIT_SUBSCRIBE="", SIGNUP_MAIL_WINDOW_SECONDS=0)
    make_subscription(["NL"])  # publishing plans a delivery: the statistics have a row to count
    push_token = manage_token(make_subscription(["NL-NH"], endpoint=EXAMPLE_ENDPOINT))
    team = make_team()
    published = publish_new(team, photo=True)  # photo 1
    withdrawn = withdraw(publish_new(team, level="warning"), team)
    draft = lifecycle.create_alert(audi_payload(), team.writer)
    lifecycle.add_photo(draft, jpeg(), team.writer)  # photo 2
    in_review = lifecycle.create_alert(audi_payload(), team.writer)
    lifecycle.submit(in_review, team.writer)
    approved = lifecycle.create_alert(audi_payload(), team.writer)
    lifecycle.submit(approved, team.writer)
    lifecycle.approve(approved, team.chief)
    update_in_review = publish_new(team)
    lifecycle.edit(update_in_review, {"contact": "lab@example.org"}, team.writer, partial=True)
    lifecycle.submit(update_in_review, team.writer)
    register = [published, withdrawn, draft, in_review, approved, update_in_review]
    assert [alert.id for alert in register] == list(range(1, ALERT_IDS + 1))

    # One token that may do everything the API offers: an admin's, with every scope.
    token = issue_token(make_editor(role=Role.ADMIN), name="fuzzing", scopes=Scope)
    TARGET.app = app
    yield FuzzedRegister(token, push_token)
    TARGET.app = _LOADER


@schema.parametrize()
@settings(
    derandomize=True,  # the same requests on every run: CI stays stable
    database=None,
    deadline=None,
    # The register is made once per operation and database; requests may change it, which is
    # what a fuzzer is for, and the app fixture empties every table afterwards.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(case: schemathesis.Case, fuzz_api_register: FuzzedRegister) -> None:
    if case.headers and case.headers.get(TOKEN_HEADER) == EXAMPLE_MANAGE_TOKEN:
        # The document's example token stands for a real one: turning off is fuzzed past the 404.
        case.headers[TOKEN_HEADER] = fuzz_api_register.manage_token
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_api_register.token}"},
        excluded_checks=EXCLUDED_CHECKS,
    )


def test_the_document_describes_every_route_of_the_json_api() -> None:
    """Only what the document lists is fuzzed, so a route it leaves out would go untested."""
    prefixes = ("/api/v1/alerts", "/api/v1/regions", "/api/v1/subscriptions/", "/sw.js", OPENAPI)
    routes = {
        (re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule).replace("{alert_id}", "{id}"), method.lower())
        for rule in _LOADER.url_map.iter_rules()
        if rule.rule.startswith(prefixes)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method)
        for path, item in schema.raw_schema["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    }
    assert routes == documented


# What the fuzzer found, pinned down in plain requests.


# 2^31 is past PostgreSQL's integer, 2^63 past SQLite's: both made the driver raise (a 500).
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/alerts/2147483648",
        "/api/v1/alerts/9223372036854775808",
        "/alerts/2147483648.cap.xml",
        "/alerts/2147483648",
    ],
)
def test_an_id_too_big_for_a_row_is_a_404_not_a_database_error(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_api_urls_no_route_matches_answer_json(client: FlaskClient) -> None:
    missing = client.get("/api/v1/alerts/null,null/draft")
    assert missing.status_code == 404 and missing.is_json
    wrong_method = client.delete("/api/v1/alerts/1")
    assert wrong_method.status_code == 405 and wrong_method.is_json
    assert {"GET", "PATCH", "PUT"} <= set(wrong_method.headers["Allow"].split(", "))
    page = client.get("/no-such-page")
    assert page.status_code == 404 and not page.is_json
