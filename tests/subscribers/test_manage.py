"""The manage link: see and change preferences, pause, resume, export, leave; and one-click unsubscribe."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.db import db
from subscribers.models import Channel, Subscription
from subscribers.preferences import preferences_of
from subscribers.tokens import confirm_token, manage_token, new_public_id, unsubscribe_token

from ..helpers import csrf_from
from .email_flow import by_email, confirm, counts, make_subscriber, sign_up
from .smtp_server import SmtpServer

ADDRESS = "jan@example.org"
CIRCLE = {"lat": 52.37, "lon": 4.9, "radius_km": 5}


def _manage(client: FlaskClient, subscription: Subscription) -> tuple[str, str]:
    """The manage path, and a CSRF token from the page (as a browser gets it)."""
    path = f"/manage/{manage_token(subscription)}"
    page = client.get(path + "?lang=en")
    assert page.status_code == 200
    return path, csrf_from(page.data)


def test_the_page_shows_the_stored_choices_and_never_the_full_address(app: Flask, client: FlaskClient) -> None:
    subscription = make_subscriber(ADDRESS, min_level="warning", substances=["mdma"], circle=CIRCLE)
    page = client.get(f"/manage/{manage_token(subscription)}?lang=en")
    html = page.data.decode()
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "j***@e***.org" in html and ADDRESS not in html
    assert 'value="NL-NH" checked' in html and 'value="mdma" checked' in html
    assert '<option value="warning" selected>' in html
    assert 'name="circle_lat" value="52.37"' in html and 'name="circle_radius_km" value="5"' in html


def test_changing_the_choices(app: Flask, client: FlaskClient) -> None:
    subscription = make_subscriber(ADDRESS, circle=CIRCLE)
    path, token = _manage(client, subscription)
    form = {"csrf_token": token, "areas": ["NL-NH", "GM0363"], "min_level": "caution", "forms": "tablet"}
    form.update(language="nl", digest="daily", digest_hour="18", quiet_start="23:00", quiet_end="07:00")
    response = client.post(path, data=form)
    assert response.status_code == 303 and response.location == path
    assert "Your choices are saved." in client.get(path).data.decode()
    stored = preferences_of(by_email(ADDRESS))  # type: ignore[arg-type]
    assert stored["areas"] == ["GM0363", "NL-NH"] and stored["circle"] is None  # the circle was left empty
    assert stored["min_level"] == "caution" and stored["forms"] == ["tablet"] and stored["accept_fallback"] is False
    assert stored["quiet_hours"] == {"start": "23:00", "end": "07:00", "timezone": "Europe/Amsterdam"}
    assert counts() == (1, 2)  # the derived circle areas went with the circle


def test_bad_choices_are_shown_again_and_change_nothing(app: Flask, client: FlaskClient) -> None:
    subscription = make_subscriber(ADDRESS)
    before = preferences_of(subscription)
    path, token = _manage(client, subscription)
    response = client.post(path, data={"csrf_token": token, "areas": "XX-NOPE", "min_level": "panic"})
    assert response.status_code == 422
    assert 'id="error-areas"' in response.data.decode() and 'id="error-min_level"' in response.data.decode()
    assert preferences_of(by_email(ADDRESS)) == before  # type: ignore[arg-type]


def test_forms_on_the_page_need_the_csrf_token(app: Flask, client: FlaskClient) -> None:
    subscription = make_subscriber(ADDRESS)
    path = f"/manage/{manage_token(subscription)}"
    assert client.post(path + "/pause").status_code == 400
    assert client.post(path + "/leave").status_code == 400
    assert by_email(ADDRESS) is not None and not by_email(ADDRESS).paused  # type: ignore[union-attr]


def test_pause_and_resume(app: Flask, client: FlaskClient) -> None:
    subscription = make_subscriber(ADDRESS)
    path, token = _manage(client, subscription)
    assert client.post(path + "/pause", data={"csrf_token": token}).status_code == 303
    assert by_email(ADDRESS).paused  # type: ignore[union-attr]
    assert "Resume alerts" in client.get(path).data.decode()
    assert client.post(path + "/resume", data={"csrf_token": token}).status_code == 303
    subscription = by_email(ADDRESS)  # type: ignore[assignment]
    assert not subscription.paused and subscription.active


def test_the_export_holds_everything_stored(app: Flask, client: FlaskClient) -> None:
    subscription = make_subscriber(ADDRESS, circle=CIRCLE, substances=["ghb"])
    response = client.get(f"/manage/{manage_token(subscription)}/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="signaal-subscription.json"'
    data = json.loads(response.data)
    assert data["channel"] == "email" and data["email"] == ADDRESS  # the full address: it is their data
    assert data["preferences"] == preferences_of(subscription)
    assert data["active"] is True and data["paused"] is False
    assert data["created_at"] == subscription.created_at.isoformat()
    assert data["confirmed_at"] == subscription.confirmed_at.isoformat()  # type: ignore[union-attr]
    assert data["areas_reached_by_circle"] and "GM0363" in data["areas_reached_by_circle"]


def test_a_push_subscription_is_managed_the_same_way(app: Flask, client: FlaskClient) -> None:
    push = Subscription(public_id=new_public_id(), channel=Channel.PUSH, language="en", active=True)
    push.endpoint, push.p256dh, push.auth = "https://push.example.net/send/abc", "BPkey", "authsecret"
    db.session.add(push)
    db.session.commit()
    token = manage_token(push)
    assert "By push notification" in client.get(f"/manage/{token}?lang=en").data.decode()
    data = client.get(f"/manage/{token}/export").json
    assert data is not None and data["channel"] == "push" and "email" not in data
    assert data["push"] == {"endpoint": push.endpoint, "keys": {"p256dh": "BPkey", "auth": "authsecret"}}


def test_leaving_deletes_the_row_and_its_areas(app: Flask, client: FlaskClient) -> None:
    leaving = make_subscriber(ADDRESS, circle=CIRCLE)
    make_subscriber("piet@example.org", areas=["NL", "NL-UT"])
    assert counts()[0] == 2
    path, token = _manage(client, leaving)
    response = client.post(path + "/leave", data={"csrf_token": token})
    assert response.status_code == 200 and "Your subscription is deleted" in response.data.decode()
    assert counts() == (1, 2) and by_email(ADDRESS) is None
    assert [a.code for a in by_email("piet@example.org").areas] == ["NL", "NL-UT"]  # type: ignore[union-attr]
    assert client.get(path).status_code == 404  # the link died with the row
    assert client.get(path + "/export").status_code == 404


@pytest.mark.parametrize("kind", ["forged", "unsubscribe token", "confirm token"])
def test_a_link_that_is_not_a_manage_link_finds_nothing(app: Flask, client: FlaskClient, kind: str) -> None:
    subscription = make_subscriber(ADDRESS)
    token = {
        "forged": manage_token(subscription)[:-4] + "AAAA",
        "unsubscribe token": unsubscribe_token(subscription),
        "confirm token": confirm_token(subscription),
    }[kind]
    for path in (f"/manage/{token}", f"/manage/{token}/export"):
        response = client.get(path + "?lang=en")
        assert response.status_code == 404 and "Link not found" in response.data.decode()
    csrf = _manage(client, subscription)[1]
    assert client.post(f"/manage/{token}/leave", data={"csrf_token": csrf}).status_code == 404
    assert counts()[0] == 1


def test_one_click_unsubscribe_from_the_mail_header(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    sign_up(client, ADDRESS, circle_lat="52.37", circle_lon="4.9", circle_radius_km="5")
    confirm(client, smtp_server.messages[0])
    sign_up(client, ADDRESS)  # a confirmed address: the "already subscribed" mail, with List-Unsubscribe
    header = smtp_server.messages[-1].message["List-Unsubscribe"]
    path = header.strip("<>").removeprefix("https://signaal.test")
    assert counts()[0] == 1 and counts()[1] > 1

    mail_client = mail_app.test_client()  # a mail provider: no cookies, no CSRF token
    body, kind = "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
    response = mail_client.post(path, data=body, content_type=kind)
    assert response.status_code == 200 and counts() == (0, 0)
    assert mail_client.post(path, data=body, content_type=kind).status_code == 200  # idempotent
    assert mail_client.get(path).status_code == 200  # the page says it is gone


def test_a_get_never_unsubscribes(app: Flask, client: FlaskClient) -> None:
    subscription = make_subscriber(ADDRESS)
    path = f"/unsubscribe/{unsubscribe_token(subscription)}"
    page = client.get(path + "?lang=en")
    html = page.data.decode()
    assert page.status_code == 200 and "<button" in html and f'action="{path}"' in html
    assert "j***@e***.org" in html and ADDRESS not in html
    assert counts()[0] == 1
    assert client.post(path).status_code == 200  # the page's button: no CSRF token needed
    assert counts() == (0, 0)


def test_a_forged_unsubscribe_link_is_not_found(app: Flask, client: FlaskClient) -> None:
    subscription = make_subscriber(ADDRESS)
    for token in (unsubscribe_token(subscription)[:-4] + "AAAA", manage_token(subscription)):
        assert client.post(f"/unsubscribe/{token}", data="List-Unsubscribe=One-Click").status_code == 404
        assert client.get(f"/unsubscribe/{token}").status_code == 404
    assert counts()[0] == 1
