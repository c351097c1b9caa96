"""The public pages' kept bodies (alerts/freshness.py public_body): what belongs to one visitor
never goes into them or comes out of them, and a reload of an unchanged page is a 304.

That a kept page is byte for byte what a build gives, through every change of the alerts,
is tested with the other public reads in tests/feeds/test_kept_bodies.py.
"""

from __future__ import annotations

from flask import Flask

from alerts.freshness import EXTENSION, Freshness
from tests.feeds.made_alerts import make_team, publish_new

EN = {"Accept-Language": "en"}
MESSAGE = "Your choices are saved."


def test_a_flashed_message_is_shown_to_its_visitor_alone(app: Flask) -> None:
    alert = publish_new(make_team())
    for path in ("/", f"/alerts/{alert.id}"):
        app.extensions[EXTENSION] = Freshness()
        visitor = app.test_client()
        with visitor.session_transaction() as session:
            session["_flashes"] = [("info", MESSAGE)]
        shown = visitor.get(path, headers=EN)
        assert shown.status_code == 200 and MESSAGE in shown.get_data(as_text=True), path
        assert "ETag" not in shown.headers  # a page for one visitor: nothing to confirm later
        # Shown once, as before: the next page of the same visitor is the one everyone gets.
        again = visitor.get(path, headers=EN)
        assert MESSAGE not in again.get_data(as_text=True) and again.headers["ETag"], path
        # And nobody else ever gets it, from a cache or otherwise.
        other = app.test_client().get(path, headers=EN)
        assert MESSAGE not in other.get_data(as_text=True) and other.data == again.data, path


def test_a_kept_page_is_not_handed_to_a_visitor_with_a_message_waiting(app: Flask) -> None:
    alert = publish_new(make_team())
    path = f"/alerts/{alert.id}"
    kept = app.test_client().get(path, headers=EN)
    visitor = app.test_client()
    with visitor.session_transaction() as session:
        session["_flashes"] = [("info", MESSAGE)]
    shown = visitor.get(path, headers={**EN, "If-None-Match": kept.headers["ETag"]})
    assert shown.status_code == 200 and MESSAGE in shown.get_data(as_text=True)


def test_reloading_an_unchanged_page_is_a_304_in_its_own_language(app: Flask) -> None:
    alert = publish_new(make_team())
    client = app.test_client(use_cookies=False)
    for path in ("/", f"/alerts/{alert.id}"):
        first = client.get(path, headers=EN)
        etag = first.headers["ETag"]
        reload = client.get(path, headers={**EN, "If-None-Match": etag})
        assert reload.status_code == 304 and reload.data == b"" and reload.headers["ETag"] == etag
        # The security headers of a 304 are those of the page.
        for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
            assert reload.headers[header] == first.headers[header], (path, header)
        assert client.get(path, headers={"Accept-Language": "nl", "If-None-Match": etag}).status_code == 200
        assert client.get(path, headers={"Cookie": "lang=nl", **EN, "If-None-Match": etag}).status_code == 200
