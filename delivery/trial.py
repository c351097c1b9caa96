"""A test send: one alert version to one editor's own mailbox or browser, outside the outbox.

Editors check how an alert looks on a real phone or in a real mail client, also before it is
published. The job is built in memory and handed straight to the configured sender: nothing is
written to the deliveries table, no subscription row is made, and the statistics never see it.

The caller must have ended its database transaction first: a push service or mail server may
take seconds to answer, and no transaction stays open during network I/O.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets

from flask import Flask

from alerts.models import AlertVersion
from subscribers.endpoints import PushSubscriptionInfo
from subscribers.models import Channel

from .channels import Job, Message, Outcome, Recipient, Result, make_sender
from .prepare import message_of

log = logging.getLogger(__name__)

# What manage links and logs see instead of a subscription's public id.
TEST_PUBLIC_ID = "test-send"


def test_message(version: AlertVersion, base_url: str) -> Message:
    """The version as subscribers would get it, marked as a test in every language.

    Its own topic, so it never replaces a real alert still queued at the push service for the
    same browser, nor that alert's notification on screen.
    """
    message = message_of(version, base_url)
    # The channels put TEST_MARK in front of the title or subject they build.
    return dataclasses.replace(message, topic=f"signaal-test-{version.alert_id}", test=True)


def email_recipient(address: str, language: str) -> Recipient:
    return Recipient(0, TEST_PUBLIC_ID, Channel.EMAIL, language, email=address)


def push_recipient(info: PushSubscriptionInfo, language: str) -> Recipient:
    return Recipient(
        0, TEST_PUBLIC_ID, Channel.PUSH, language, endpoint=info.endpoint, p256dh=info.p256dh, auth=info.auth
    )


def send_test(app: Flask, message: Message, recipient: Recipient) -> Result:
    """Send one job now with the channel's configured sender; its Result, FAIL when it broke."""
    # No row exists: a negative id no row can have, different per send, so a sender that
    # derives a Message-ID from it never makes two tests look like duplicates.
    job = Job(delivery_id=-1 - secrets.randbelow(2**47), recipient=recipient, message=message, attempts=0)
    try:
        sender = make_sender(app, recipient.channel)
    except Exception as error:  # unknown backend, no VAPID keys, no mail server configured
        log.warning("test send: the %s sender could not start: %s", recipient.channel.value, error)
        return Result(job.delivery_id, Outcome.FAIL, str(error)[:200])
    try:
        results = sender.send([job])
    except Exception as error:
        log.exception("test send: the %s sender failed", recipient.channel.value)
        return Result(job.delivery_id, Outcome.FAIL, f"{type(error).__name__}: {error}"[:200])
    finally:
        sender.close()
    mine = [result for result in results if result.delivery_id == job.delivery_id]
    return mine[0] if mine else Result(job.delivery_id, Outcome.FAIL, "the sender gave no answer")
