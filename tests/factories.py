"""Small factories for test data: each makes one real row and commits it."""

from __future__ import annotations

import secrets
from itertools import count

from core.db import db
from editors.models import Editor, Role
from editors.passwords import hash_password
from subscribers.areas import set_areas
from subscribers.models import Channel, Subscription

DEFAULT_PASSWORD = "correct horse battery staple"

_serial = count(1)


def make_editor(
    email: str | None = None,
    role: Role = Role.EDITOR,
    password: str = DEFAULT_PASSWORD,
    *,
    active: bool = True,
) -> Editor:
    """An editor account; without `email` each call gets a fresh address."""
    editor = Editor(
        email=(email or f"editor{next(_serial)}@example.org").lower(),
        password_hash=hash_password(password),
        role=role,
        active=active,
    )
    db.session.add(editor)
    db.session.commit()
    return editor


def make_subscription(
    areas: list[str],
    channel: str = "push",
    circle: tuple[float, float, float] | None = None,
    commit: bool = True,
    **fields: object,
) -> Subscription:
    """An active subscription; push ones get a unique loopback endpoint unless one is given."""
    number = next(_serial)
    values: dict[str, object] = {"channel": Channel(channel), "language": "nl", "active": True, **fields}
    if channel == "push":
        values.setdefault("endpoint", f"http://127.0.0.1:9/push/{number}")
        values.setdefault("p256dh", "unused")
        values.setdefault("auth", "unused")
    else:
        values.setdefault("email", f"subscriber{number}@example.org")
    subscription = Subscription(public_id=secrets.token_hex(8), **values)
    set_areas(subscription, areas, circle)
    db.session.add(subscription)
    if commit:
        db.session.commit()
    return subscription
