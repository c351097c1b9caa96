"""Email sign-up with double opt-in, without revealing who is subscribed.

Anyone can type any address, so a sign-up of an address that is already confirmed changes
nothing and mails its owner a manage link instead. New and pending addresses get (again) the
confirmation mail; until it is confirmed an address gets nothing else (the matching rule
skips rows that are not active). The caller answers the same in all three cases, and
also when mail_throttle holds a mail back because this mailbox had one a moment ago.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from alerts.schema import ValidationError
from core import clock
from core.db import db

from .mail_throttle import send_once
from .mailer import PermanentMailError
from .mails import already_subscribed_mail, confirmation_mail
from .models import Channel, Subscription
from .preferences import apply_preferences
from .tokens import new_public_id

MAX_ADDRESS = 254  # RFC 5321's limit on a path, and the column's width
MAX_LOCAL_PART = 64
# A dot-atom local part (RFC 5322 without quoted strings or comments, which no real sign-up needs).
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def normalise_address(raw: Any) -> str:
    """The address as we store it: trimmed, domain lower-cased (and IDNA-encoded); or ValidationError.

    The local part keeps its case: RFC 5321 lets servers tell "Jan" from "jan".
    A domain needs a dot: dotless domains receive no mail on the public internet.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError({"email": _("Enter your email address.")})
    address = raw.strip()
    if any(ord(char) < 32 or ord(char) == 127 for char in address):
        # Line breaks would let a form post add headers (Bcc:) to our mail.
        raise ValidationError({"email": _("Enter one email address, on one line.")})
    if len(address) > MAX_ADDRESS:
        raise ValidationError({"email": _("An email address has at most %(max)d characters.", max=MAX_ADDRESS)})
    local, at, domain = address.rpartition("@")
    try:
        domain = domain.lower().encode("idna").decode("ascii")
    except UnicodeError:
        domain = ""
    labels = domain.split(".")
    if (
        not at
        or len(local) > MAX_LOCAL_PART
        or not _LOCAL_PART.fullmatch(local)
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
        or len(f"{local}@{domain}") > MAX_ADDRESS
    ):
        raise ValidationError({"email": _("Enter an email address such as name@example.org.")})
    return f"{local}@{domain}"


def sign_up(address: str, preferences: dict[str, Any]) -> None:
    """Store or refresh a pending sign-up and send the one mail that fits; raises MailError.

    The mail goes out at most once per mailbox and SIGNUP_MAIL_WINDOW_SECONDS (mail_throttle.py);
    within the window a pending sign-up's preferences still follow the latest form.

    The row is committed before the mail goes out (no transaction stays open during SMTP);
    if sending fails the visitor may simply try again, which re-sends to the pending row.
    """
    subscription = _by_address(address)
    if subscription is not None and subscription.confirmed_at is not None:
        send_once(address, partial(already_subscribed_mail, subscription))
        return
    created = subscription is None
    if subscription is None:
        subscription = Subscription(public_id=new_public_id(), channel=Channel.EMAIL, email=address, active=False)
        db.session.add(subscription)
    apply_preferences(subscription, preferences)
    # Each confirmation mail starts a new link's life: retention.py counts from here.
    subscription.updated_at = clock.now()
    try:
        db.session.commit()
    except IntegrityError:
        # A second sign-up of the same new address won the race; it is pending now: refresh that one.
        db.session.rollback()
        subscription = _by_address(address)
        if subscription is None or subscription.confirmed_at is not None:
            raise
        apply_preferences(subscription, preferences)
        db.session.commit()
        created = False
    try:
        send_once(address, partial(confirmation_mail, subscription))
    except PermanentMailError:
        if created:
            # An address the server refuses for good can never confirm: keep nothing of it.
            db.session.delete(subscription)
            db.session.commit()
        raise


def confirm(subscription: Subscription) -> None:
    """Idempotent: confirming twice keeps the first confirmation time."""
    if subscription.confirmed_at is None:
        subscription.confirmed_at = clock.now()
        subscription.active = True
        db.session.commit()


def _by_address(address: str) -> Subscription | None:
    return db.session.scalar(select(Subscription).where(Subscription.email == address))


def mask_address(address: str | None) -> str:
    """ "jan@example.org" as "j***@e***.org": enough for its owner to recognise, too little to harvest."""
    if not address:
        return ""
    local, _at, domain = address.rpartition("@")
    name, dot, tld = domain.rpartition(".")
    return f"{local[:1]}***@{name[:1]}***{dot}{tld}"
