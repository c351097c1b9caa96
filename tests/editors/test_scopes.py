"""Token scopes on every /api/v1 token endpoint, and the CLI that gives them."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from alerts.api import PUBLIC_ENDPOINTS
from core.db import db
from editors.models import ApiToken, Role
from editors.scopes import DEFAULT_SCOPES, Scope, join_scopes
from tests.alert_payloads import audi_payload

from ..alerts.api_client import call, cli_token, ok, row_counts
from ..factories import make_editor

# Every token endpoint of the alerts API: its method, a path on an alert that does not exist
# (so passing the scope check shows as the view's own 404 or 4xx, and nothing changes), and
# the scope it needs. The first test keeps this table complete.
ENDPOINTS = {
    "alerts_api.create_alert": ("POST", "", Scope.ALERTS_WRITE),
    "alerts_api.get_draft": ("GET", "/999/draft", Scope.ALERTS_READ),
    "alerts_api.patch_alert": ("PATCH", "/999", Scope.ALERTS_WRITE),
    "alerts_api.replace_alert": ("PUT", "/999", Scope.ALERTS_WRITE),
    "alerts_api.submit": ("POST", "/999/submit", Scope.ALERTS_WRITE),
    "alerts_api.add_photo": ("POST", "/999/photos", Scope.ALERTS_WRITE),
    "alerts_api.remove_photo": ("DELETE", "/999/photos/1", Scope.ALERTS_WRITE),
    "alerts_api.send_back": ("POST", "/999/send-back", Scope.ALERTS_PUBLISH),
    "alerts_api.approve": ("POST", "/999/approve", Scope.ALERTS_PUBLISH),
    "alerts_api.publish": ("POST", "/999/publish", Scope.ALERTS_PUBLISH),
    "alerts_api.withdraw": ("POST", "/999/withdraw", Scope.ALERTS_PUBLISH),
    "alerts_api.deliveries": ("GET", "/999/deliveries", Scope.DELIVERIES_READ),
}
ADMIN = "root@lab.test"


def test_the_table_names_every_token_endpoint(app: Flask) -> None:
    token_endpoints = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("alerts_api.") and rule.endpoint not in PUBLIC_ENDPOINTS
    }
    assert token_endpoints == set(ENDPOINTS)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_a_token_without_the_scope_gets_403_and_changes_nothing(app: Flask, client: FlaskClient, endpoint: str) -> None:
    method, path, needed = ENDPOINTS[endpoint]
    make_editor(ADMIN, Role.ADMIN)
    # Every other scope, and the largest role: only the missing scope can refuse it.
    token = cli_token(app, ADMIN, tuple(scope for scope in Scope if scope != needed))
    response = call(client, method, path, token, audi_payload() if method == "POST" and not path else None)
    assert response.status_code == 403
    assert response.json == {
        "error": "insufficient_scope",
        "description": f"This needs a token with the {needed.value} scope.",
        "scope": needed.value,
    }
    challenge = response.headers["WWW-Authenticate"]
    assert challenge == f'Bearer realm="signaal", error="insufficient_scope", scope="{needed.value}"'
    assert row_counts() == (0, 0, 0)
    # A refused token is not marked used.
    assert db.session.scalars(select(ApiToken.last_used_at)).one() is None


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_a_token_with_only_that_scope_gets_past_the_check(app: Flask, client: FlaskClient, endpoint: str) -> None:
    method, path, needed = ENDPOINTS[endpoint]
    make_editor(ADMIN, Role.ADMIN)
    token = cli_token(app, ADMIN, (needed,))
    body = {} if method in ("PATCH", "PUT") or (method == "POST" and not path) else None
    response = call(client, method, path, token, body)
    # The view itself answered: no such alert, or (creating) an empty alert is invalid.
    assert response.status_code == (422 if not path else 404), response.get_data(as_text=True)
    assert response.json is not None and response.json["error"] != "insufficient_scope"


def test_a_lab_system_with_the_narrowest_tokens_runs_the_whole_workflow(app: Flask, client: FlaskClient) -> None:
    make_editor("writer@lab.test", Role.EDITOR)
    make_editor("chief@lab.test", Role.PUBLISHER)
    writer = cli_token(app, "writer@lab.test", (Scope.ALERTS_WRITE,))
    reader = cli_token(app, "writer@lab.test", (Scope.ALERTS_READ,))
    chief = cli_token(app, "chief@lab.test", (Scope.ALERTS_PUBLISH,))

    alert_id = ok(call(client, "POST", "", writer, audi_payload()), 201)["id"]
    ok(call(client, "POST", f"/{alert_id}/submit", writer))
    assert call(client, "GET", f"/{alert_id}/draft", writer).status_code == 403
    assert call(client, "POST", f"/{alert_id}/approve", reader).status_code == 403
    ok(call(client, "POST", f"/{alert_id}/approve", chief))
    assert ok(call(client, "POST", f"/{alert_id}/publish", chief))["state"] == "published"
    assert ok(call(client, "GET", f"/{alert_id}/draft", reader))["state"] == "published"


def test_the_role_still_decides_whatever_the_scopes(app: Flask, client: FlaskClient) -> None:
    make_editor("writer@lab.test", Role.EDITOR)
    result = app.test_cli_runner().invoke(args=["editors", "token", "writer@lab.test", "--scope", "alerts:publish"])
    assert result.exit_code == 0
    # The CLI says the scope is of no use yet, on stderr, so scripts still read only the token.
    assert "alerts:publish does nothing while writer@lab.test is editor" in result.stderr
    token = result.stdout.strip()
    response = call(client, "POST", "/999/approve", token)
    assert response.status_code == 404  # past the scope check; the alert does not exist
    alert_id = ok(call(client, "POST", "", cli_token(app, "writer@lab.test"), audi_payload()), 201)["id"]
    response = call(client, "POST", f"/{alert_id}/approve", token)
    assert response.status_code == 403 and "publisher" in response.json["error"]


def run(app: Flask, *args: str) -> tuple[int, str, str]:
    result = app.test_cli_runner().invoke(args=["editors", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_tokens_are_read_only_unless_scopes_are_named(app: Flask) -> None:
    make_editor("ada@example.org")
    code, _, _ = run(app, "token", "ada@example.org", "--name", "dashboard")
    assert code == 0
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.scopes == join_scopes(DEFAULT_SCOPES) == "alerts:read deliveries:read"


def test_cli_refuses_an_unknown_scope_and_stores_nothing(app: Flask) -> None:
    make_editor("ada@example.org")
    code, out, err = run(app, "token", "ada@example.org", "--scope", "alerts:everything")
    assert code != 0
    assert "alerts:everything" in err and "alerts:read" in err
    assert out == ""
    assert db.session.scalars(select(ApiToken)).first() is None


def test_cli_listing_shows_prefix_name_scopes_dates_and_no_secret(app: Flask) -> None:
    make_editor("ada@example.org")
    make_editor("bob@example.org")
    _, ada_token, _ = run(app, "token", "ada@example.org", "--name", "import", "--scope", "alerts:write")
    _, bob_token, _ = run(app, "token", "bob@example.org", "--name", "stats")
    ada_row = db.session.scalars(select(ApiToken).where(ApiToken.name == "import")).one()
    run(app, "revoke-token", str(ada_row.id))

    code, listing, _ = run(app, "tokens", "ada@example.org")
    assert code == 0
    header, *rows = listing.strip().split("\n")
    assert header == "id\tprefix\tname\teditor\tscopes\tcreated\tlast used\trevoked"
    assert len(rows) == 1
    fields = rows[0].split("\t")
    assert fields[1:5] == [ada_token.strip()[:12], "import", "ada@example.org", "alerts:write"]
    assert fields[6] == "-" and fields[7].endswith("UTC")

    _, everyone, _ = run(app, "tokens")
    assert "ada@example.org" in everyone and "bob@example.org" in everyone
    for token in (ada_token.strip(), bob_token.strip()):
        assert token not in everyone
    assert all(row.token_hash not in everyone for row in db.session.scalars(select(ApiToken)))


def test_a_missing_scope_flag_value_is_an_error(app: Flask) -> None:
    make_editor("ada@example.org")
    result = app.test_cli_runner().invoke(args=["editors", "token", "ada@example.org", "--scope"])
    assert result.exit_code != 0
    assert "requires an argument" in result.stderr
    assert db.session.scalars(select(ApiToken)).first() is None
