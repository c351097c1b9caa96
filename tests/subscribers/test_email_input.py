"""What the email sign-up accepts and refuses, by form and JSON API; and links that do not work."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from alerts.schema import ValidationError
from core import clock
from feeds.openapi_views import document
from subscribers.email_signup import mask_address, normalise_address

from ..helpers import csrf_from
from .email_flow import by_email, counts, link, sign_up
from .smtp_server import SmtpServer

API = "/api/v1/subscriptions/email"
PREFERENCES = {"areas": ["NL-NH"], "min_level": "caution", "language": "nl"}

BAD_ADDRESSES = {
    "missing": None,
    "empty": "   ",
    "too long": "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".org",  # 259 characters
    "local part over 64": "a" * 65 + "@example.org",
    "no dot in the domain": "a@b",
    "header injection": "a@b.org\r\nBcc: x@y.org",
    "newline": "a@b.org\nx@y.org",
    "two at signs": "a@b@example.org",
    "no local part": "@example.org",
    "no domain": "jan@",
    "space": "jan de vries@example.org",
    "comma list": "a@b.org,c@d.org",
    "label starts with a hyphen": "jan@-example.org",
    "empty label": "jan@example..org",
    "IP literal": "jan@[127.0.0.1]",
    "numeric top-level domain": "jan@127.0.0.1",
    "display name": "Jan <jan@example.org>",
    "not text": 42,
}


@pytest.mark.parametrize("raw", BAD_ADDRESSES.values(), ids=BAD_ADDRESSES.keys())
def test_bad_addresses_are_refused(raw: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_address(raw)
    assert set(caught.value.errors) == {"email"}


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("  Jan.de-Vries+alerts@Example.ORG ", "Jan.de-Vries+alerts@example.org"),  # only the domain is lower-cased
        ("jan@bücher.de", "jan@xn--bcher-kva.de"),
        ("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".org", None),  # exactly 254
    ],
)
def test_good_addresses_are_normalised(raw: str, stored: str | None) -> None:
    assert normalise_address(raw) == (stored or raw)


def test_addresses_on_pages_are_masked() -> None:
    assert mask_address("jan@example.org") == "j***@e***.org"
    assert mask_address("j@mail.example.co.uk") == "j***@m***.uk"


BAD_FORMS: dict[str, tuple[str | None, dict[str, Any], set[str]]] = {
    name: (raw if isinstance(raw, str) or raw is None else str(raw), {}, {"email"})
    for name, raw in BAD_ADDRESSES.items()
    if name not in {"not text", "empty"}
}
BAD_FORMS["no area"] = ("jan@example.org", {"areas": ""}, {"areas"})
BAD_FORMS["unknown region"] = ("jan@example.org", {"areas": "XX-NOPE"}, {"areas"})
BAD_FORMS["unknown level"] = ("jan@example.org", {"min_level": "panic"}, {"min_level"})
BAD_FORMS["half a quiet time"] = ("jan@example.org", {"quiet_start": "23:00"}, {"quiet_hours.end"})
BAD_FORMS["everything"] = ("jan", {"areas": "", "forms": "pill"}, {"email", "areas", "forms"})


@pytest.mark.parametrize(("email", "fields", "errors"), BAD_FORMS.values(), ids=BAD_FORMS.keys())
def test_bad_form_input_stores_and_sends_nothing(
    mail_app: Flask,
    client: FlaskClient,
    smtp_server: SmtpServer,
    email: str | None,
    fields: dict[str, Any],
    errors: set[str],
) -> None:
    response = sign_up(client, email, **fields)
    assert response.status_code == 422
    for field in errors:
        assert f'id="error-{field.replace(".", "-")}"' in response.data.decode()
    assert counts() == (0, 0) and smtp_server.messages == []


def test_the_api_answers_new_pending_and_confirmed_alike(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    body = {"email": "Jan@Example.org", "preferences": PREFERENCES}
    first = client.post(API, json=body)
    assert first.status_code == 202 and first.json is not None and first.json["status"] == "check_mailbox"
    second = client.post(API, json=body)
    [_, mail] = smtp_server.messages
    path = link(mail, "/subscribe/confirm/")
    client.post(path, data={"csrf_token": csrf_from(client.get(path).data)})
    third = client.post(API, json={**body, "preferences": {**PREFERENCES, "areas": ["NL"]}})
    assert (first.status_code, first.data) == (second.status_code, second.data) == (third.status_code, third.data)
    assert [m.message["Subject"] for m in smtp_server.messages] == [
        "Bevestig je Signaal-waarschuwingen",
        "Bevestig je Signaal-waarschuwingen",
        "Je krijgt al waarschuwingen van Signaal",
    ]  # in the subscriber's language, whatever the request's
    subscription = by_email("Jan@example.org")
    assert subscription is not None and [a.code for a in subscription.areas] == ["NL-NH"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "a@b", "preferences": {"areas": []}}, {"email", "areas"}),
        ({"email": "a@b.org\r\nBcc: x@y.org", "preferences": PREFERENCES}, {"email"}),
        ({"email": "a@b.org"}, {"preferences"}),
        ({"email": "a@b.org", "preferences": {"areas": ["NL"], "digest": "hourly"}}, {"digest"}),
        (["a@b.org"], {""}),
        ({"email": "a@b.org", "preferences": PREFERENCES, "name": "Jan"}, {"name"}),
        ({"email": "a@b.org", "preferences": {"areas": ["NL"], "quiet_hour": {}}}, {"quiet_hour"}),
    ],
)
def test_bad_api_input_is_a_422_naming_the_fields(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer, body: Any, fields: set[str]
) -> None:
    response = client.post(API, json=body)
    assert response.status_code == 422 and response.json is not None
    assert set(response.json) == {"error", "fields"} and set(response.json["fields"]) == fields
    assert counts() == (0, 0) and smtp_server.messages == []


@pytest.mark.parametrize(
    ("number", "field"),
    [
        ('"digest_hour": 1e400', "digest_hour"),  # infinite as a float
        ('"digest_hour": ' + "9" * 400, "digest_hour"),
        ('"circle": {"lat": 1e400, "lon": 4.9, "radius_km": 5}', "circle.lat"),
        ('"circle": {"lat": ' + "5" * 400 + ', "lon": 4.9, "radius_km": 5}', "circle.lat"),
    ],
)
def test_numbers_past_a_floats_range_are_a_422_not_a_crash(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer, number: str, field: str
) -> None:
    body = '{"email": "a@b.org", "preferences": {"areas": ["NL"], ' + number + "}}"
    response = client.post(API, data=body, content_type="application/json")
    assert response.status_code == 422 and response.json is not None
    assert set(response.json["fields"]) == {field}
    assert counts() == (0, 0) and smtp_server.messages == []


# The API must take no body the OpenAPI document calls invalid (tests/security/test_fuzz_api.py
# holds it to that). It took a weekday "06", which the document's pattern refused (it allows it
# now), and clock times with another script's digits or a final line break, which the document's
# patterns refuse (the API does too now).
DIGESTS_AND_CLOCKS: list[tuple[dict[str, Any], str | None]] = [
    ({"digest_weekday": "6"}, None),
    ({"digest_weekday": "06"}, None),  # the document's pattern was ^[0-6]$
    ({"digest_weekday": "7"}, "digest_weekday"),
    ({"digest_hour": "09"}, None),
    ({"digest_hour": "24"}, "digest_hour"),
    ({"digest_hour": "\u0669"}, "digest_hour"),  # an Arabic-Indic 9
    ({"quiet_hours": {"start": "7:05", "end": "9:00"}}, None),
    ({"quiet_hours": {"start": "23:0\u0660", "end": "07:00"}}, "quiet_hours.start"),  # \\d took any digit
    ({"quiet_hours": {"start": "23:00", "end": "07:00\n"}}, "quiet_hours.end"),  # $ took a final line break
]


@pytest.mark.parametrize(("preferences", "refused"), DIGESTS_AND_CLOCKS)
def test_the_api_takes_the_digest_numbers_and_clock_times_the_document_allows(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer, preferences: dict[str, Any], refused: str | None
) -> None:
    body = {"email": "jan@example.org", "preferences": {"areas": ["NL"], **preferences}}
    response = client.post(API, json=body)
    if refused is None:
        assert response.status_code == 202 and len(smtp_server.messages) == 1
    else:
        assert response.status_code == 422 and response.json is not None
        assert set(response.json["fields"]) == {refused} and counts() == (0, 0)
    spec = document()
    registry: Registry[Any] = Registry().with_resource("urn:doc", Resource.from_contents(spec, DRAFT202012))
    validator = Draft202012Validator({"$ref": "urn:doc#/components/schemas/EmailSignupRequest"}, registry=registry)
    # jsonschema reads patterns as Python does, where $ matches before a final line break too;
    # JSON Schema's (ECMA-262) $ does not, and neither does the API now.
    if not preferences.get("quiet_hours", {}).get("end", "").endswith("\n"):
        assert validator.is_valid(body) == (refused is None)


def test_a_chunked_body_counts_as_it_arrives(mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer) -> None:
    """A body sent in chunks has no Content-Length; past 16 KB it is a 413 all the same."""
    body = b'{"email": "jan@example.org", "preferences": {"areas": ["NL"]}}' + b" " * 17_000
    response = client.post(
        API,
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # what gunicorn and Werkzeug's server say then
    )
    assert response.status_code == 413 and response.request.content_length is None
    assert counts() == (0, 0) and smtp_server.messages == []


def test_the_api_wants_json(mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer) -> None:
    response = client.post(API, data={"email": "a@b.org"})
    assert response.status_code == 422 and counts() == (0, 0)


def test_an_expired_confirmation_link_changes_nothing(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    start = datetime(2026, 6, 1, 20, tzinfo=UTC)
    clock.freeze(start)
    sign_up(client, "jan@example.org")
    path = link(smtp_server.messages[0], "/subscribe/confirm/")
    token = csrf_from(client.get(path).data)
    clock.freeze(start + timedelta(hours=48, seconds=1))
    for response in (client.get(path), client.post(path, data={"csrf_token": token})):
        assert response.status_code == 400 and b"older than 48 hours" in response.data
    assert not by_email("jan@example.org").active  # type: ignore[union-attr]


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "abc", lambda t: "x" + t, lambda t: "nonsense"])
def test_a_forged_confirmation_link_changes_nothing(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer, mangle: Any
) -> None:
    sign_up(client, "jan@example.org")
    path = link(smtp_server.messages[0], "/subscribe/confirm/")
    token = csrf_from(client.get(path).data)
    forged = "/subscribe/confirm/" + mangle(path.removeprefix("/subscribe/confirm/"))
    assert client.get(forged).status_code == 400
    assert client.post(forged, data={"csrf_token": token}).status_code == 400
    assert not by_email("jan@example.org").active  # type: ignore[union-attr]


def test_the_api_refuses_a_huge_body(mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer) -> None:
    body = {"email": "a@b.org", "preferences": {**PREFERENCES, "padding": "x" * 20_000}}
    assert client.post(API, json=body).status_code == 413
    assert counts() == (0, 0)
