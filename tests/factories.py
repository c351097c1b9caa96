"""Small factories for test data: each makes one real row and commits it."""

from __future__ import annotations

from itertools import count

from core.db import db
from editors.models import Editor, Role
from editors.passwords import hash_password

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
