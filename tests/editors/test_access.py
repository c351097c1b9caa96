from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from editors.auth import editor_required, safe_next_path
from editors.models import Role

from ..factories import make_editor
from ..helpers import LOGIN_PATH, login


@editor_required()
def desk() -> str:
    return "desk"


@editor_required(Role.ADMIN)
def accounts() -> str:
    return "accounts"


@pytest.fixture
def pages(app: Flask, client: FlaskClient) -> FlaskClient:
    # Registered on this test's app only: the real editor pages live elsewhere.
    app.add_url_rule("/editor/_test/desk", view_func=desk)
    app.add_url_rule("/editor/_test/accounts", view_func=accounts)
    return client


def test_anonymous_visitors_go_to_login_and_come_back(pages: FlaskClient) -> None:
    make_editor("ada@example.org")
    response = pages.get("/editor/_test/desk?tab=drafts")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == LOGIN_PATH
    next_path = parse_qs(location.query)["next"][0]
    assert next_path == "/editor/_test/desk?tab=drafts"

    assert login(pages, "ada@example.org", next_path=next_path).headers["Location"] == next_path
    assert pages.get(next_path).data == b"desk"


def test_too_small_a_role_gets_403(pages: FlaskClient) -> None:
    make_editor("ada@example.org", role=Role.PUBLISHER)
    login(pages, "ada@example.org")
    assert pages.get("/editor/_test/accounts").status_code == 403


def test_a_large_enough_role_gets_in(pages: FlaskClient) -> None:
    make_editor("root@example.org", role=Role.ADMIN)
    login(pages, "root@example.org")
    assert pages.get("/editor/_test/accounts").data == b"accounts"


def test_the_decorator_needs_its_parentheses() -> None:
    with pytest.raises(TypeError):
        editor_required(desk)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/editor/alerts", "/editor/alerts"),
        ("/editor/alerts?state=draft&page=2", "/editor/alerts?state=draft&page=2"),
        (None, None),
        ("", None),
        ("editor/alerts", None),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("///evil.example/", None),
        ("/\\evil.example", None),
        ("\\/evil.example", None),
        ("/\t/evil.example", None),
        ("/\n/evil.example", None),
        ("/ /evil.example", None),
        ("javascript:alert(1)", None),
    ],
)
def test_safe_next_path(target: str | None, expected: str | None) -> None:
    assert safe_next_path(target) == expected
