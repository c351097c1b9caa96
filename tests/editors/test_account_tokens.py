"""API tokens in the editor UI: listed without secrets, made with a secret shown once, revoked."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from core import clock
from core.db import db
from editors.models import ApiToken, Role
from editors.scopes import Scope
from editors.tokens import issue_token
from tests.alert_payloads import audi_payload

from ..alerts.api_client import call
from ..factories import make_editor
from ..helpers import csrf_from, login
from .two_step import START

TOKENS_PATH = "/editor/account/tokens"
SHOWN_TOKEN = re.compile(r'<code class="secret">(sgl_[^<]+)</code>')


@pytest.fixture(autouse=True)
def english(client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    clock.freeze(START)


def make_token(client: FlaskClient, name: str, *scopes: str) -> TestResponse:
    token = csrf_from(client.get(TOKENS_PATH).data)
    return client.post(TOKENS_PATH, data={"csrf_token": token, "name": name, "scopes": list(scopes)})


def revoke(client: FlaskClient, token_id: int, query: str = "") -> TestResponse:
    token = csrf_from(client.get(TOKENS_PATH).data)
    return client.post(f"{TOKENS_PATH}/{token_id}/revoke{query}", data={"csrf_token": token})


def token_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ApiToken)) or 0


def test_a_new_token_is_shown_once_and_works_within_its_scopes(client: FlaskClient) -> None:
    editor = make_editor("ada@example.org")
    login(client, "ada@example.org")
    response = make_token(client, "lab import", "alerts:write")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    shown = SHOWN_TOKEN.search(response.get_data(as_text=True))
    assert shown is not None
    secret = shown.group(1)
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.editor_id == editor.id and stored.name == "lab import" and stored.scopes == "alerts:write"

    # Never again: the list shows its prefix only.
    listing = client.get(TOKENS_PATH).get_data(as_text=True)
    assert secret not in listing and stored.token_hash not in listing
    assert stored.prefix in listing and "lab import" in listing and "alerts:write" in listing

    assert call(client, "POST", "", secret, audi_payload()).status_code == 201
    assert call(client, "GET", "/1/draft", secret).status_code == 403


def test_an_editor_is_offered_and_given_only_the_scopes_the_role_can_use(client: FlaskClient) -> None:
    make_editor("ada@example.org")
    login(client, "ada@example.org")
    page = client.get(TOKENS_PATH).get_data(as_text=True)
    assert 'value="alerts:write"' in page and 'value="alerts:publish"' not in page
    # A browser must not insist on every box: one is enough.
    checkboxes = re.findall(r'<input[^>]*type="checkbox"[^>]*>', page)
    assert len(checkboxes) == 3 and not any(" required" in box for box in checkboxes)
    refused = make_token(client, "sneaky", "alerts:publish")
    assert refused.status_code == 422
    assert token_count() == 0


@pytest.mark.parametrize(("name", "scopes"), [("", ["alerts:read"]), ("no scope", []), ("x" * 101, ["alerts:read"])])
def test_a_token_needs_a_name_and_a_scope(client: FlaskClient, name: str, scopes: list[str]) -> None:
    make_editor("ada@example.org")
    login(client, "ada@example.org")
    assert make_token(client, name, *scopes).status_code == 422
    assert token_count() == 0


def test_the_list_shows_created_and_last_used(client: FlaskClient) -> None:
    editor = make_editor("ada@example.org")
    secret = issue_token(editor, "reader", {Scope.ALERTS_READ})
    login(client, "ada@example.org")
    assert "never" in client.get(TOKENS_PATH).get_data(as_text=True)
    call(client, "GET", "/1/draft", secret)
    listing = client.get(TOKENS_PATH).get_data(as_text=True)
    assert "never" not in listing
    # Shown in Amsterdam time: START is 22:00 UTC on 1 June, midnight there.
    assert listing.count("June 2, 2025 at 00:00") == 2


def test_revoking_stops_the_token_at_once(client: FlaskClient) -> None:
    editor = make_editor("ada@example.org")
    secret = issue_token(editor, "reader", {Scope.ALERTS_READ})
    token_id = db.session.scalars(select(ApiToken.id)).one()
    login(client, "ada@example.org")
    assert client.post(f"{TOKENS_PATH}/{token_id}/revoke").status_code == 400  # no CSRF token
    assert call(client, "GET", "/1/draft", secret).status_code == 404

    assert revoke(client, token_id).status_code == 302
    response = call(client, "GET", "/1/draft", secret)
    assert response.status_code == 401 and response.json == {
        "error": "invalid_token",
        "description": "The API token is unknown, revoked or of an inactive account.",
    }
    assert 'action="/editor/account/tokens/' not in client.get(TOKENS_PATH).get_data(as_text=True)


def test_others_tokens_are_hidden_and_cannot_be_revoked(client: FlaskClient) -> None:
    make_editor("ada@example.org")
    bob = make_editor("bob@example.org")
    issue_token(bob, "bob's script", {Scope.ALERTS_READ})
    bob_token = db.session.scalars(select(ApiToken)).one()
    login(client, "ada@example.org")
    assert "bob&#39;s script" not in client.get(TOKENS_PATH).get_data(as_text=True)
    assert "bob" not in client.get(TOKENS_PATH + "?all=1").get_data(as_text=True)
    assert revoke(client, bob_token.id).status_code == 404
    db.session.refresh(bob_token)
    assert bob_token.revoked_at is None


def test_an_admin_sees_and_revokes_everyones_tokens(app: Flask, client: FlaskClient) -> None:
    make_editor("root@example.org", Role.ADMIN)
    bob = make_editor("bob@example.org")
    issue_token(bob, "bob's script", {Scope.ALERTS_READ})
    bob_token = db.session.scalars(select(ApiToken)).one()
    login(client, "root@example.org")
    assert "bob@example.org" not in client.get(TOKENS_PATH).get_data(as_text=True)
    everyone = client.get(TOKENS_PATH + "?all=1").get_data(as_text=True)
    assert "bob@example.org" in everyone and bob_token.prefix in everyone
    response = revoke(client, bob_token.id, "?all=1")
    assert response.status_code == 302 and response.headers["Location"] == TOKENS_PATH + "?all=1"
    db.session.refresh(bob_token)
    assert bob_token.revoked_at == START
