"""Oversized and malformed bodies, huge headers and hostile uploads on every route that takes a
body: a 4xx that says what is wrong, nothing written, never a 5xx."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, TestResponse

from tests.alerts.test_editor_ui import Browser
from tests.alerts.test_photos import REFUSED
from tests.feeds.made_alerts import jpeg

from .attacks import changed_tables, snapshot
from .site import STATE_CHANGING, World, rules

ONE_CLICK_UNSUBSCRIBE = "selfservice.manage.unsubscribe"  # reads no body: its signed link is all it needs
MALFORMED: dict[str, tuple[str, bytes]] = {
    "truncated JSON": ("application/json", b'{"level": "red_alert", "texts": {'),
    "not UTF-8": ("application/json", b'{"note": "\xff\xfe\xfd"}'),
    "UTF-16": ("application/json", '{"note": "x"}'.encode("utf-16")),
    # 10 KB, under every body limit, and far deeper than the parser's recursion allows.
    "nested 5,000 deep": ("application/json", b"[" * 5_000 + b"]" * 5_000),
    "object nested 2,000 deep": ("application/json", b'{"a":' * 2_000 + b"1" + b"}" * 2_000),
    "NaN": ("application/json", b'{"level": NaN}'),
    "huge numbers": ("application/json", b'{"weight": 1e999999, "n": ' + b"9" * 5_000 + b"}"),
    "array": ("application/json", b"[1, 2, 3]"),
    "string": ("application/json", b'"just a string"'),
    "null": ("application/json", b"null"),
    "JSON as text/plain": ("text/plain", b'{"note": "x"}'),
    "JSON as a form": ("application/x-www-form-urlencoded", b'{"note": "x"}'),
    "form as JSON": ("application/json", b"note=x&reason=error"),
    "multipart without boundary": ("multipart/form-data", b"--x\r\n\r\n"),
    "broken multipart": ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\nx"),
    "form not UTF-8": ("application/x-www-form-urlencoded", b"note=%ff%fe&reason=%c0%ae"),
    "NUL in JSON": ("application/json", b'{"note": "a\\u0000b", "email": "a\\u0000@example.org"}'),
    "NUL in a form": ("application/x-www-form-urlencoded", b"note=a%00b&email=a%00%40example.org"),
}


def attacker(world: World) -> Browser:
    """The publisher's browser, sending their API token and a manage token too: every kind of
    credential a route might want, so each body reaches the code that reads it."""
    world.app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 to count, not the end of the walk
    chief = world.chief()
    chief.client.environ_base["HTTP_X_MANAGE_TOKEN"] = world.token_for("manage")
    return chief


def send(world: World, browser: Browser, method: str, path: str, content_type: str, body: bytes) -> TestResponse:
    # The session's CSRF token rides in the header Flask-WTF also reads, so a refusal is not just that.
    headers = {"Content-Type": content_type, "X-CSRFToken": browser.token}
    with world.app.app_context():
        return browser.client.open(path, method=method, data=body, headers=headers)


def body_routes(world: World) -> list[tuple[str, str, str]]:
    return [
        (r.endpoint, m, world.path(r))
        for r, m in rules(world.app, STATE_CHANGING)
        if r.endpoint != ONE_CLICK_UNSUBSCRIBE
    ]


def test_max_content_length_is_set(world: World) -> None:
    assert 0 < world.app.config["MAX_CONTENT_LENGTH"] <= 64 * 1024 * 1024


def test_a_body_over_the_limit_is_413_everywhere(world: World) -> None:
    browser, limit = attacker(world), world.app.config["MAX_CONTENT_LENGTH"]
    too_big = b"x" * (limit + 1)
    failures = []
    for endpoint, method, path in body_routes(world):
        for content_type in (
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ):
            before = snapshot()
            response = send(world, browser, method, path, content_type, too_big)
            if response.status_code != 413 or changed_tables(before):
                failures.append(f"{method} {path} ({endpoint}, {content_type}): {response.status_code}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_bodies_are_refused_and_change_nothing(world: World, case: str) -> None:
    browser = attacker(world)
    content_type, body = MALFORMED[case]
    failures = []
    for endpoint, method, path in body_routes(world):
        before = snapshot()
        response = send(world, browser, method, path, content_type, body)
        # Actions that read no body (submit, approve, ...) may go ahead: the body was never theirs.
        if response.status_code >= 500:
            failures.append(f"{method} {path} ({endpoint}): {response.status_code}")
        elif response.status_code >= 400 and (changed := changed_tables(before)):
            failures.append(f"{method} {path} ({endpoint}) refused it but changed {changed}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("header", ["Authorization", "Cookie", "X-Manage-Token", "Accept-Language", "If-None-Match"])
def test_huge_header_values_are_no_crash(world: World, header: str) -> None:
    client = world.app.test_client()
    value = ("Bearer " if header == "Authorization" else "") + "a," * 50_000
    before = snapshot()
    for rule, method in rules(world.app, {"GET", *STATE_CHANGING}):
        if rule.endpoint == ONE_CLICK_UNSUBSCRIBE:
            continue  # its signed link alone unsubscribes, whatever else comes with it
        response = client.open(world.path(rule), method=method, headers={header: value})
        assert response.status_code < 500 or response.status_code == 503, (method, rule.rule, response.status_code)
        response.close()
    assert changed_tables(before) == []


@pytest.mark.parametrize("case", [c for c in REFUSED if c != "empty"])
def test_hostile_uploads_are_refused_by_both_upload_routes(world: World, case: str) -> None:
    make, message = REFUSED[case]
    data = make()
    uploads = Path(world.app.config["UPLOAD_DIR"])
    files_before, before = sorted(uploads.iterdir()), snapshot()
    chief = world.chief()
    form = {"photo": (io.BytesIO(data), "pill.jpg"), "csrf_token": chief.token}
    page = _multipart(world, chief.client, f"/editor/alerts/{world.draft.id}/photos", form)
    assert page.status_code == 422 and message in page.get_data(as_text=True), page.status_code
    api = _multipart(
        world, world.app.test_client(), f"/api/v1/alerts/{world.draft.id}/photos", {"file": (io.BytesIO(data), "p.jpg")}
    )
    assert api.status_code in (413, 422), api.status_code
    assert changed_tables(before) == [] and sorted(uploads.iterdir()) == files_before


def test_an_upload_form_without_a_file_or_with_many(world: World) -> None:
    chief, before = world.chief(), snapshot()
    assert chief.post(f"/editor/alerts/{world.draft.id}/photos", {"alt_en": "x"}).status_code == 422
    many: dict[str, Any] = {"photo": [(io.BytesIO(jpeg()), f"{n}.jpg") for n in range(50)]}
    response = chief.post(f"/editor/alerts/{world.draft.id}/photos", many)
    assert response.status_code in (303, 422)  # the first file, or a refusal: never fifty
    assert len(snapshot()["alert_photos"]) <= len(before["alert_photos"]) + 1


def _multipart(world: World, client: FlaskClient, path: str, data: dict[str, Any]) -> TestResponse:
    """POST a multipart form, closing the temporary file Werkzeug's test client spools a large
    body into (it leaves that to the caller)."""
    headers = {"Authorization": f"Bearer {world.chief_token}"}
    builder = EnvironBuilder(path=path, method="POST", data=data, headers=headers)
    environ = builder.get_environ()
    try:
        with world.app.app_context():
            return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()
