"""Helpers for driving the app the way a browser would."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from .factories import DEFAULT_PASSWORD

LOGIN_PATH = "/editor/login"

_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_VALUE = re.compile(r'\bvalue="([^"]*)"')


def csrf_from(html: str | bytes) -> str:
    """The value of the first csrf_token field in a page; fails loudly when there is none."""
    text = html.decode() if isinstance(html, bytes) else html
    for tag in _INPUT.findall(text):
        if 'name="csrf_token"' in tag and (match := _VALUE.search(tag)):
            return match.group(1)
    raise AssertionError("no csrf_token field in the page")


def login(
    client: FlaskClient, email: str, password: str = DEFAULT_PASSWORD, next_path: str | None = None
) -> TestResponse:
    """Log in through the real form (CSRF token included); returns the unfollowed POST response."""
    query = {"next": next_path} if next_path else {}
    page = client.get(LOGIN_PATH, query_string=query)
    assert page.status_code == 200, page.status_code
    return client.post(
        LOGIN_PATH,
        query_string=query,
        data={"csrf_token": csrf_from(page.data), "email": email, "password": password},
    )
