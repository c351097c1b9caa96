"""Email sign-up with double opt-in, through the form and a real SMTP server."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from subscribers.preferences import preferences_of

from ..helpers import csrf_from
from .email_flow import by_email, confirm, counts, link, sign_up
from .smtp_server import SmtpServer

ADDRESS = "jan@example.org"


def test_sign_up_sends_one_confirmation_and_only_a_post_confirms(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    response = sign_up(client, ADDRESS, substances=["mdma", "ketamine"])
    assert response.status_code == 303 and response.location == "/subscribe/email/sent"
    assert b"Check your mailbox" in client.get(response.location).data

    [mail] = smtp_server.messages
    assert mail.recipients == [ADDRESS]
    assert mail.message.get_content_type() == "multipart/alternative"
    assert mail.message["Subject"] == "Confirm your Signaal alerts"
    assert "List-Unsubscribe" not in mail.message  # the confirmation is no list mail
    subscription = by_email(ADDRESS)
    assert subscription is not None and not subscription.active and subscription.confirmed_at is None
    assert preferences_of(subscription)["substances"] == ["mdma", "ketamine"]

    path = link(mail, "/subscribe/confirm/")
    page = client.get(path)  # what a mail scanner does
    assert page.status_code == 200 and b"<button" in page.data
    assert b"j***@e***.org" in page.data and ADDRESS.encode() not in page.data
    subscription = by_email(ADDRESS)
    assert subscription is not None and not subscription.active

    confirmed = client.post(path, data={"csrf_token": csrf_from(page.data)})
    assert confirmed.status_code == 200 and b'href="https://signaal.test/manage/' in confirmed.data
    subscription = by_email(ADDRESS)
    assert subscription is not None and subscription.active and subscription.confirmed_at is not None
    assert len(smtp_server.messages) == 1  # nothing else was sent

    again = client.post(path, data={"csrf_token": csrf_from(page.data)})
    assert again.status_code == 200  # confirming twice is harmless
    assert by_email(ADDRESS).confirmed_at == subscription.confirmed_at  # type: ignore[union-attr]


def test_the_confirm_post_needs_the_csrf_token(mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer) -> None:
    sign_up(client, ADDRESS)
    response = client.post(link(smtp_server.messages[0], "/subscribe/confirm/"))
    assert response.status_code == 400
    assert not by_email(ADDRESS).active  # type: ignore[union-attr]


def test_new_pending_and_confirmed_addresses_get_the_same_answer(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    def answer(email: str, **fields: str) -> tuple[int, str | None, bytes, bytes]:
        response = sign_up(client, email, **fields)
        return response.status_code, response.location, response.data, client.get(response.location).data

    new = answer(ADDRESS, min_level="caution")
    pending = answer(ADDRESS, min_level="warning", areas="NL-UT")
    assert new == pending

    # Pending: preferences follow the latest sign-up, and the confirmation goes out again.
    first, second = smtp_server.messages
    assert first.message["Subject"] == second.message["Subject"] == "Confirm your Signaal alerts"
    stored = preferences_of(by_email(ADDRESS))  # type: ignore[arg-type]
    assert stored["min_level"] == "warning" and stored["areas"] == ["NL-UT"]
    assert counts() == (1, 1)

    confirm(client, second)
    confirmed = answer(ADDRESS, min_level="red_alert", areas="NL")
    assert confirmed == new
    assert counts() == (1, 1)
    # Anyone can type any address: a confirmed subscriber's choices do not change.
    assert preferences_of(by_email(ADDRESS)) == stored  # type: ignore[arg-type]

    already = smtp_server.messages[-1]
    assert len(smtp_server.messages) == 3 and already.recipients == [ADDRESS]
    assert already.message["Subject"] == "You already get Signaal alerts"
    unsubscribe = already.message["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://signaal.test/unsubscribe/") and unsubscribe.endswith(">")
    assert already.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    manage = client.get(link(already, "/manage/"))
    assert manage.status_code == 200 and b"j***@e***.org" in manage.data


def test_a_transient_mail_failure_keeps_the_pending_row_for_a_retry(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse_recipients("451 4.3.0 Try again later")
    response = sign_up(client, ADDRESS)
    assert response.status_code == 503 and b"could not be sent" in response.data
    assert counts() == (1, 1)
    smtp_server.refuse_recipients(None)
    assert sign_up(client, ADDRESS).status_code == 303
    [mail] = smtp_server.messages
    confirm(client, mail)
    assert by_email(ADDRESS).active  # type: ignore[union-attr]


def test_an_address_refused_for_good_is_not_kept(mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer) -> None:
    smtp_server.refuse_recipients("550 5.1.1 No such user")
    response = sign_up(client, ADDRESS)
    assert response.status_code == 503
    assert counts() == (0, 0)


def test_the_form_with_errors_is_shown_again_and_nothing_is_stored(
    mail_app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    response = sign_up(client, "jan@example", areas="", min_level="panic")
    assert response.status_code == 422
    page = response.data.decode()
    assert 'id="error-email"' in page and 'id="error-areas"' in page and 'id="error-min_level"' in page
    assert 'value="jan@example"' in page  # what the visitor typed is kept
    assert counts() == (0, 0) and smtp_server.messages == []
