from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from core import clock
from core.db import db
from editors.models import ApiToken, Role
from editors.scopes import Scope
from editors.tokens import api_actor, issue_token, token_required

from ..factories import make_editor

MOMENT = datetime(2025, 6, 1, 22, 0, tzinfo=UTC)


@token_required(scope=Scope.ALERTS_READ)
def whoami() -> ResponseReturnValue:
    return jsonify(email=api_actor().email)


@token_required(Role.PUBLISHER, scope=Scope.ALERTS_PUBLISH)
def publish() -> ResponseReturnValue:
    return jsonify(published_by=api_actor().email)


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> FlaskClient:
    # Registered on this test's app only: the real API lives elsewhere.
    app.add_url_rule("/api/v1/_test/whoami", view_func=whoami)
    app.add_url_rule("/api/v1/_test/publish", view_func=publish, methods=["POST"])
    return client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_identifies_its_editor_and_is_marked_used(api: FlaskClient) -> None:
    clock.freeze(MOMENT)
    editor = make_editor("ada@example.org")
    token = issue_token(editor, "script", {Scope.ALERTS_READ})
    response = api.get("/api/v1/_test/whoami", headers=bearer(token))
    assert response.status_code == 200
    assert response.json == {"email": "ada@example.org"}
    stored = db.session.scalars(select(ApiToken)).one()
    db.session.refresh(stored)
    assert stored.last_used_at == MOMENT


def test_last_used_is_kept_to_the_minute_not_written_on_every_request(api: FlaskClient) -> None:
    clock.freeze(MOMENT)
    token = issue_token(make_editor("ada@example.org"), "import", {Scope.ALERTS_READ})

    def used_after(seconds: int) -> datetime | None:
        clock.freeze(MOMENT + timedelta(seconds=seconds))
        assert api.get("/api/v1/_test/whoami", headers=bearer(token)).status_code == 200
        db.session.expire_all()
        return db.session.scalars(select(ApiToken.last_used_at)).one()

    assert used_after(0) == MOMENT
    assert used_after(59) == MOMENT  # within the minute: no write
    assert used_after(60) == MOMENT + timedelta(seconds=60)


def test_a_missing_token_gets_401_with_a_bearer_challenge(api: FlaskClient) -> None:
    response = api.get("/api/v1/_test/whoami")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json is not None
    assert response.json["error"] == "missing_token"


@pytest.mark.parametrize("header", ["Bearer sgl_not-a-real-token", "Basic YWRhOnNlY3JldA==", "Bearer "])
def test_an_unknown_token_gets_401(api: FlaskClient, header: str) -> None:
    make_editor("ada@example.org")
    response = api.get("/api/v1/_test/whoami", headers={"Authorization": header})
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_a_revoked_token_gets_401(api: FlaskClient) -> None:
    token = issue_token(make_editor("ada@example.org"), scopes={Scope.ALERTS_READ})
    stored = db.session.scalars(select(ApiToken)).one()
    stored.revoked_at = clock.now()
    db.session.commit()
    response = api.get("/api/v1/_test/whoami", headers=bearer(token))
    assert response.status_code == 401
    assert response.json is not None
    assert response.json["error"] == "invalid_token"


def test_a_token_of_a_deactivated_editor_gets_401(api: FlaskClient) -> None:
    editor = make_editor("ada@example.org")
    token = issue_token(editor, scopes={Scope.ALERTS_READ})
    editor.active = False
    db.session.commit()
    assert api.get("/api/v1/_test/whoami", headers=bearer(token)).status_code == 401


def test_too_small_a_role_gets_403_json(api: FlaskClient) -> None:
    token = issue_token(make_editor("ada@example.org", role=Role.EDITOR), scopes=set(Scope))
    response = api.post("/api/v1/_test/publish", headers=bearer(token))
    assert response.status_code == 403
    assert response.json is not None
    assert response.json["error"] == "insufficient_role"


def test_a_large_enough_role_may_post_without_a_csrf_token(api: FlaskClient) -> None:
    token = issue_token(make_editor("ada@example.org", role=Role.ADMIN), scopes={Scope.ALERTS_PUBLISH})
    response = api.post("/api/v1/_test/publish", headers=bearer(token))
    assert response.status_code == 200
    assert response.json == {"published_by": "ada@example.org"}


def test_api_actor_outside_a_token_view_is_an_error(app: Flask) -> None:
    with app.test_request_context("/"), pytest.raises(RuntimeError):
        api_actor()
