"""SQL metacharacters are data: searched for literally, stored verbatim, never a 500 and never
an extra row. (Every query parameter of every GET route already gets quotes, a comment and
LIKE wildcards from test_xss_reflected's payload; here NUL, searches and stored text.)"""

from __future__ import annotations

import re
from urllib.parse import quote

from alerts import lifecycle
from alerts.content import content_of
from alerts.models import Alert
from core.db import db
from tests.alert_payloads import audi_payload
from tests.alerts.api_client import call

from .attacks import changed_tables, snapshot
from .content import free_text_paths, full_content, with_leaves
from .site import World, query_parameters, rules

METACHARACTERS = (
    "' OR 1=1 --",
    "' OR '1'='1",
    '"; DROP TABLE alerts; --',
    "'); DELETE FROM subscriptions; --",
    "1 UNION SELECT * FROM editors --",
    "%",
    "_",
    "\\",
    "\\%",
    "[a-z]*",
)
HEADLINES = {"100% pure": "percent", "a_b pill": "underscore", "back\\slash pill": "backslash", "O'Brien pill": "quote"}
INCIDENT_KEY = re.compile(r"attack-(percent|underscore|backslash|quote|plain)")


def test_a_nul_in_any_query_parameter_or_path_is_a_400(world: World) -> None:
    """PostgreSQL cannot hold a NUL: refused before any view, on every route, for every parameter
    (in a path it is simply not found)."""
    world.app.config["PROPAGATE_EXCEPTIONS"] = False
    chief, before, failures = world.chief(), snapshot(), []
    for rule, _method in rules(world.app, {"GET"}):
        path = world.path(rule)
        for name in query_parameters():
            response = chief.client.get(path, query_string={name: "NL\x00' OR 1=1 --"})
            if response.status_code != 400:
                failures.append(f"GET {path}?{name}=NUL: {response.status_code}")
            response.close()
    for path in ("/editor/alerts/new\x00", "/manage/a\x00b", "/photos/a\x00.jpg", "/subscribe/confirm/\x00"):
        if chief.get(path).status_code not in (400, 404):
            failures.append(f"{path!r}")
    assert failures == [], "\n".join(failures)
    assert changed_tables(before) == []


def test_a_nul_in_a_form_or_json_field_is_a_400_and_stores_nothing(world: World) -> None:
    world.app.config["PROPAGATE_EXCEPTIONS"] = False
    chief, client, before = world.chief(), world.app.test_client(), snapshot()
    published = f"/editor/alerts/{world.published.id}"
    assert chief.post(f"{published}/withdraw", {"reason": "error", "note": "a\x00b"}).status_code == 400
    assert chief.post("/editor/login", {"email": "a\x00@example.org", "password": "x"}).status_code == 400
    assert chief.get("/editor/?q=a%00b").status_code == 400
    note = {"reason": "error", "note": "a\x00b"}
    assert call(client, "POST", f"/{world.published.id}/withdraw", world.chief_token, note).status_code == 400
    email = {"email": "a\x00b@example.org", "preferences": {"areas": ["NL"]}}
    assert client.post("/api/v1/subscriptions/email", json=email).status_code in (400, 422)
    assert changed_tables(before) == []


def test_searching_for_metacharacters_finds_them_literally(world: World) -> None:
    for headline, key in {**HEADLINES, "Plain pill": "plain"}.items():
        payload = audi_payload()
        payload["texts"]["en"]["headline"] = payload["texts"]["nl"]["headline"] = headline
        lifecycle.create_alert(payload, world.team.writer, incident_key=f"attack-{key}")
    chief = world.chief()

    def found(query: str) -> set[str]:
        page = chief.get(f"/editor/?q={quote(query, safe='')}")
        assert page.status_code == 200, query
        return set(INCIDENT_KEY.findall(page.get_data(as_text=True)))

    assert found("%") == {"percent"}
    assert found("_") == {"underscore"}
    assert found("\\") == {"backslash"}
    assert found("'") == {"quote"}
    assert found("o'brien") == {"quote"}
    assert found("pill") == {"underscore", "backslash", "quote", "plain"}
    for query in METACHARACTERS[:5]:
        assert found(query) == set(), query
    regions = world.app.test_client()
    for query in METACHARACTERS:
        response = regions.get("/api/v1/regions", query_string={"q": query})
        assert response.status_code == 200 and response.json == {"results": []}, query


def test_metacharacters_in_every_text_field_are_stored_verbatim(world: World) -> None:
    texts = [path for path in free_text_paths(world.app.config) if path != ("web_link",)]
    content = with_leaves(full_content(), texts, *METACHARACTERS)
    content["web_link"] = "https://example.org/?q=' OR '1'='1&x=%_\\"
    texts.append(("web_link",))
    client = world.app.test_client()
    response = call(client, "POST", "", world.writer_token, content, query_string={"q": METACHARACTERS[0]})
    assert response.status_code == 201, response.get_data(as_text=True)
    db.session.expire_all()
    stored = content_of(db.session.get_one(Alert, response.json["id"]).latest)  # type: ignore[index]
    assert {str(p): _at(stored, p) for p in texts} == {str(p): _at(content, p) for p in texts}
    note = {"reason": "error", "note": METACHARACTERS[2]}
    assert call(client, "POST", f"/{world.published.id}/withdraw", world.chief_token, note).status_code == 200
    db.session.expire_all()
    assert world.published.latest.withdrawal_note == METACHARACTERS[2]
    assert len(snapshot()["alerts"]) == 3  # the table is there, with every row


def _at(content: object, path: tuple[str | int, ...]) -> object:
    for part in path:
        content = content[part]  # type: ignore[index]
    return content
