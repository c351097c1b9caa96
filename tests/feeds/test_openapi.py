"""The OpenAPI document: valid OpenAPI 3.1, and true to what the running API answers.

Responses come from alerts made through the real workflow (active, withdrawn, expired, a
test message, with photo and circle) and are checked with jsonschema (Draft 2020-12) against
the document's own response schemas, made strict first: a field the API sends but the
document does not describe fails here, while the published document stays open to additions.
"""

from __future__ import annotations

import copy
import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from core import clock
from feeds.openapi_views import document
from subscribers import endpoints
from subscribers.vapid import generate_pair

from ..subscribers.smtp_server import SmtpServer
from ..subscribers.test_endpoints import dns
from .made_alerts import make_team, publish_new, publish_update, withdraw

DOC_URI = "urn:signaal:openapi"
START = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def strict(node: Any) -> Any:
    """A copy in which every object schema with listed properties allows no others."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    copied = {key: strict(value) for key, value in node.items()}
    if "properties" in copied and "additionalProperties" not in copied:
        copied["additionalProperties"] = False
    return copied


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


class Checker:
    """Validates a response against the document's description of that path, method and status."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = strict(copy.deepcopy(spec))
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOC_URI, resource)
        self.checked: set[tuple[str, str]] = set()

    def check(self, template: str, response: TestResponse, method: str = "get") -> None:
        status = str(response.status_code)
        described = self.spec["paths"][template][method]["responses"]
        assert status in described, f"{template} answered {status}, which the document does not list"
        self.checked.add((template, status) if method == "get" else (f"{method.upper()} {template}", status))
        answer = described[status]
        if "$ref" in answer:
            answer = self._resolve(answer["$ref"])
        for name, header in answer.get("headers", {}).items():
            header = self._resolve(header["$ref"]) if "$ref" in header else header
            if header.get("required"):
                assert name in response.headers, f"{template} {status}: no {name} header"
                value = response.headers[name]
                Draft202012Validator(header["schema"]).validate(value)
        if "content" not in answer:
            assert response.data == b"", f"{template} {status}: a body the document does not describe"
            return
        assert response.mimetype in answer["content"], f"{template} {status}: {response.mimetype}"
        if response.mimetype != "application/json":
            return
        pointer = _pointer("paths", template, method, "responses", status, "content", "application/json", "schema")
        if "$ref" in described[status]:
            pointer = described[status]["$ref"].removeprefix("#") + _pointer("content", "application/json", "schema")
        validator = Draft202012Validator(
            {"$ref": f"{DOC_URI}#{pointer}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.json)]
        assert not errors, f"{template} {status}:\n" + "\n".join(errors[:10])

    def _resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return dict(node)


@pytest.fixture
def checker(app: Flask) -> Checker:
    return Checker(document())


def test_the_document_is_valid_openapi_3_1_and_names_this_server(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.json
    assert spec is not None and spec["openapi"].startswith("3.1")
    validate_openapi(spec)
    assert spec["servers"] == [{"url": "https://signaal.test", "description": "Signaal"}]
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    # The token holders' paths are there too; tests/security/test_fuzz_api.py holds them to the routes.
    assert {"/api/v1/alerts", "/api/v1/alerts/{id}", "/api/v1/regions", "/api/v1/openapi.json"} <= set(spec["paths"])

    assert response.headers["Access-Control-Allow-Origin"] == "*" and response.cache_control.public
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert client.get("/api/v1/openapi.json", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/api/v1/openapi.json", headers={"If-Modified-Since": modified}).status_code == 304


def test_the_document_describes_itself(client: FlaskClient, checker: Checker) -> None:
    response = client.get("/api/v1/openapi.json")
    checker.check("/api/v1/openapi.json", response)
    checker.check(
        "/api/v1/openapi.json", client.get("/api/v1/openapi.json", headers={"If-None-Match": response.headers["ETag"]})
    )


def test_alert_responses_match_the_document(app: Flask, client: FlaskClient, checker: Checker) -> None:
    clock.freeze(START)
    team = make_team()
    circle = {"lat": 52.3676, "lon": 4.9041, "radius_km": 5}
    active = publish_new(team, photo=True, circle=circle, areas=["NL-NH", "GM0363"])
    updated = publish_new(team, level="caution", risk_reasons=[], reference={}, samples={})
    publish_update(updated, team, areas=["BE"], web_link="https://example.org/more", contact="lab@example.org")
    withdrawn = publish_new(team, level="warning")
    withdraw(withdrawn, team)
    expired = publish_new(team, expires=(START + timedelta(hours=1)).isoformat())
    test_message = publish_new(team, status="test", components=[{"substance": "DOC", "quantified": False}])
    clock.freeze(START + timedelta(hours=2))

    listed = client.get("/api/v1/alerts")
    checker.check("/api/v1/alerts", listed)
    assert [a["id"] for a in listed.json["alerts"]] == [active.id, updated.id]  # type: ignore[index]
    for query in ("?lang=en", "?level_min=warning", "?area=NL-NH", "?area=DE"):
        checker.check("/api/v1/alerts", client.get("/api/v1/alerts" + query))
    for query in ("?level_min=severe", "?lang=de", "?area=XX-NOWHERE"):
        checker.check("/api/v1/alerts", client.get("/api/v1/alerts" + query))
    checker.check("/api/v1/alerts", client.get("/api/v1/alerts", headers={"If-None-Match": listed.headers["ETag"]}))

    statuses = {}
    for alert in (active, updated, withdrawn, expired, test_message):
        one = client.get(f"/api/v1/alerts/{alert.id}")
        checker.check("/api/v1/alerts/{id}", one)
        statuses[alert.id] = (one.json["status"], one.json["msg_type"])  # type: ignore[index]
        checker.check("/api/v1/alerts/{id}", client.get(f"/api/v1/alerts/{alert.id}?lang=nl"))
    assert statuses == {
        active.id: ("active", "alert"),
        updated.id: ("active", "update"),
        withdrawn.id: ("withdrawn", "cancel"),
        expired.id: ("expired", "alert"),
        test_message.id: ("active", "alert"),
    }
    checker.check("/api/v1/alerts/{id}", client.get("/api/v1/alerts/999"))
    checker.check("/api/v1/alerts/{id}", client.get(f"/api/v1/alerts/{active.id}?lang=xx"))

    covered = {status for template, status in checker.checked if template.startswith("/api/v1/alerts")}
    assert covered == {"200", "304", "400", "404"}


def test_region_responses_match_the_document(client: FlaskClient, checker: Checker) -> None:
    default = client.get("/api/v1/regions")
    for response in (
        default,
        client.get("/api/v1/regions?country=be"),
        client.get("/api/v1/regions?q=utr"),
        client.get("/api/v1/regions?q=nether"),  # a country: no parent
        client.get("/api/v1/regions?q=utr&country=NL"),
        client.get("/api/v1/regions?q="),
        client.get("/api/v1/regions?country=XX"),
        client.get("/api/v1/regions", headers={"If-None-Match": default.headers["ETag"]}),
    ):
        checker.check("/api/v1/regions", response)
    assert {status for _, status in checker.checked} == {"200", "304", "404"}


def test_push_subscription_responses_match_the_document(
    app: Flask, client: FlaskClient, checker: Checker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The endpoint check resolves nothing (as without DNS): the allowed push services pass.
    monkeypatch.setattr(endpoints, "check_endpoint", functools.partial(endpoints.check_endpoint, resolve=dns({})))
    app.config["VAPID_PRIVATE_KEY"] = generate_pair()[0]
    api = "/api/v1/subscriptions/push"
    subscribe = _example(checker.spec, api, "post")
    change = _example(checker.spec, f"{api}/change", "post")
    unsubscribe = _example(checker.spec, api, "delete")

    checker.check(api, client.post(api, json=subscribe), "post")
    everything = copy.deepcopy(subscribe)
    everything["preferences"].update(
        circle={"lat": 52.37, "lon": "4.9", "radius_km": 10}, forms=["tablet"], digest="daily", accept_fallback=False
    )
    checker.check(api, client.post(api, json=everything), "post")
    checker.check(api, client.post(api, json={"subscription": {}, "preferences": {}}), "post")
    checker.check(api, client.post(api, data="{", content_type="application/json"), "post")
    checker.check(api, client.post(api, data="subscription=1"), "post")
    checker.check(api, client.post(api, data="{}" + " " * 17000, content_type="application/json"), "post")

    moved = client.post(f"{api}/change", json=change)
    checker.check(f"{api}/change", moved, "post")
    checker.check(f"{api}/change", client.post(f"{api}/change", json=change), "post")  # moved already: 404
    checker.check(f"{api}/change", client.post(f"{api}/change", json={"old_endpoint": "x"}), "post")

    token = {"X-Manage-Token": moved.json["manage_token"]}  # type: ignore[index]
    gone = {"endpoint": change["subscription"]["endpoint"]}
    checker.check(api, client.delete(api, json=unsubscribe), "delete")  # no token: 401
    checker.check(api, client.delete(api, json={**gone, "manage_token": 7}), "delete")  # 422
    checker.check(api, client.delete(api, json=gone, headers=token), "delete")  # 204
    checker.check(api, client.delete(api, json=gone, headers=token), "delete")  # 404

    checker.check(f"{api}/vapid-key", client.get(f"{api}/vapid-key"))
    app.config["VAPID_PRIVATE_KEY"] = None
    app.config["VAPID_FILE"] = str(tmp_path / "no-vapid.json")
    checker.check(f"{api}/vapid-key", client.get(f"{api}/vapid-key"))

    worker = client.get("/sw.js")
    checker.check("/sw.js", worker)
    checker.check("/sw.js", client.get("/sw.js", headers={"If-None-Match": worker.headers["ETag"]}))

    app.config["RATE_LIMIT_PUSH_API"] = "1 per minute"
    client.post(api, json={})
    checker.check(api, client.post(api, json=subscribe), "post")

    covered = {
        "POST /api/v1/subscriptions/push": {"200", "201", "400", "413", "415", "422", "429"},
        "POST /api/v1/subscriptions/push/change": {"200", "404", "422"},
        "DELETE /api/v1/subscriptions/push": {"204", "401", "404", "422"},
        "/api/v1/subscriptions/push/vapid-key": {"200", "503"},
        "/sw.js": {"200", "304"},
    }
    assert checker.checked == {(operation, status) for operation, statuses in covered.items() for status in statuses}


def test_email_signup_responses_match_the_document(
    app: Flask, client: FlaskClient, checker: Checker, request: pytest.FixtureRequest
) -> None:
    smtp_server = SmtpServer()  # on loopback (tests/subscribers/smtp_server.py): the mails go nowhere else
    smtp_server.start()
    request.addfinalizer(smtp_server.stop)
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port, SMTP_TLS="none")
    app.config["RATE_LIMIT_SUBSCRIBE"] = ""  # until the 429 at the end
    api = "/api/v1/subscriptions/email"
    examples = _examples(checker.spec, api, "post")
    assert len(examples) == 2
    for example in examples:  # every example signs up (and mails) for real
        response = client.post(api, json=example)
        checker.check(api, response, "post")
        assert response.status_code == 202
    assert [m.recipients for m in smtp_server.messages] == [[example["email"]] for example in examples]

    jan = examples[0]
    for bad in ({"email": "jan", "preferences": {}}, {**jan, "name": "Jan"}, {"email": "jan@example.org"}, [jan]):
        checker.check(api, client.post(api, json=bad), "post")
    checker.check(api, client.post(api, data="{", content_type="application/json"), "post")
    checker.check(api, client.post(api, data="email=jan%40example.org"), "post")
    checker.check(api, client.post(api, data="{}" + " " * 17000, content_type="application/json"), "post")
    app.config["MAX_CONTENT_LENGTH"] = 20_000  # past the server's own limit: refused before the view
    checker.check(api, client.post(api, data="{}" + " " * 30_000, content_type="application/json"), "post")

    smtp_server.refuse_recipients("550 5.1.1 No such mailbox")
    refused = client.post(api, json={**jan, "email": "nobody@example.org"})
    smtp_server.refuse_recipients("451 4.3.0 Try again later")
    failed = client.post(api, json=jan)
    for response in (refused, failed):
        checker.check(api, response, "post")
        assert response.status_code == 503
    assert len(smtp_server.messages) == len(examples)

    app.config["RATE_LIMIT_SUBSCRIBE"] = "1 per minute"
    client.post(api, json={})
    checker.check(api, client.post(api, json=jan), "post")

    assert checker.checked == {(f"POST {api}", status) for status in ("202", "413", "422", "429", "503")}


def _examples(spec: dict[str, Any], path: str, method: str) -> list[dict[str, Any]]:
    """Every example request body the document gives for an operation."""
    examples = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["examples"]
    return [copy.deepcopy(example["value"]) for example in examples.values()]


def _example(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    """The (first) example request body the document gives for an operation."""
    examples = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["examples"]
    return copy.deepcopy(next(iter(examples.values()))["value"])
