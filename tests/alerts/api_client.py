"""Helpers for driving /api/v1/alerts as a lab system would: with tokens made through the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from alerts.audit import AuditEntry
from alerts.models import Alert, AlertVersion
from core.db import db
from editors.models import Role
from editors.scopes import Scope

from ..factories import make_editor

BASE = "/api/v1/alerts"


def cli_token(app: Flask, email: str, scopes: tuple[Scope, ...] = tuple(Scope)) -> str:
    """A token exactly as an operator gets one: `flask editors token EMAIL --scope ...`.

    Every scope by default, so what these tests see refused is refused by the role or the
    workflow (tests/editors/test_scopes.py covers the scopes).
    """
    scope_args = [arg for scope in scopes for arg in ("--scope", scope.value)]
    result = app.test_cli_runner().invoke(args=["editors", "token", email, *scope_args])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


@dataclass
class Team:
    """A lab writer, and two publishers so the four-eyes rule can always be met."""

    writer: str
    chief: str
    deputy: str


def make_team(app: Flask) -> Team:
    make_editor("writer@lab.test", Role.EDITOR)
    make_editor("chief@lab.test", Role.PUBLISHER)
    make_editor("deputy@lab.test", Role.PUBLISHER)
    return Team(
        writer=cli_token(app, "writer@lab.test"),
        chief=cli_token(app, "chief@lab.test"),
        deputy=cli_token(app, "deputy@lab.test"),
    )


def call(
    client: FlaskClient, method: str, path: str, token: str | None = None, body: Any = None, **kwargs: Any
) -> TestResponse:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        kwargs["json"] = body
    return client.open(BASE + path, method=method, headers=headers, **kwargs)


def ok(response: TestResponse, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json is not None
    data: dict[str, Any] = response.json
    return data


def row_counts() -> tuple[int, ...]:
    """Alerts, versions and audit entries: an action refused must leave all three alone."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) or 0 for model in (Alert, AlertVersion, AuditEntry)
    )
