from __future__ import annotations

import hashlib

from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from core.db import db
from editors.models import ApiToken, Editor, Role
from editors.passwords import verify_password

from ..factories import make_editor

PASSWORD = "a long enough passphrase"


def run(app: Flask, *args: str, stdin: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=["editors", *args], input=stdin)


def editor_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Editor)) or 0


def test_create_reads_the_password_from_stdin_and_stores_only_a_hash(app: Flask) -> None:
    result = run(app, "create", "Ada@Example.org", "--role", "publisher", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    editor = db.session.scalars(select(Editor)).one()
    assert editor.email == "ada@example.org"
    assert editor.role is Role.PUBLISHER
    assert editor.active
    assert PASSWORD not in editor.password_hash
    assert editor.password_hash.startswith("$argon2id$")
    assert verify_password(editor.password_hash, PASSWORD)


def test_create_refuses_a_duplicate_email(app: Flask) -> None:
    make_editor("ada@example.org")
    result = run(app, "create", "ADA@example.org", "--role", "editor", stdin=PASSWORD + "\n")
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert editor_count() == 1


def test_create_refuses_a_short_password(app: Flask) -> None:
    result = run(app, "create", "ada@example.org", "--role", "editor", stdin="short\n")
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert editor_count() == 0


def test_create_refuses_an_unknown_role(app: Flask) -> None:
    result = run(app, "create", "ada@example.org", "--role", "overlord", stdin=PASSWORD + "\n")
    assert result.exit_code != 0
    assert "overlord" in result.output
    assert editor_count() == 0


def test_create_refuses_something_that_is_not_an_email(app: Flask) -> None:
    result = run(app, "create", "ada", "--role", "editor", stdin=PASSWORD + "\n")
    assert result.exit_code != 0
    assert editor_count() == 0


def test_token_is_printed_once_and_stored_as_sha256(app: Flask) -> None:
    make_editor("ada@example.org")
    result = run(app, "token", "ada@example.org", "--name", "import script")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("sgl_")
    assert len(token) > 40
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.prefix == token[:12]
    assert stored.name == "import script"
    assert stored.revoked_at is None

    listing = run(app, "tokens", "ada@example.org")
    assert listing.exit_code == 0
    assert stored.prefix in listing.output
    assert "import script" in listing.output
    assert token not in listing.output


def test_token_for_an_unknown_or_deactivated_account_is_refused(app: Flask) -> None:
    make_editor("gone@example.org", active=False)
    assert run(app, "token", "nobody@example.org").exit_code != 0
    assert run(app, "token", "gone@example.org").exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_revoke_token(app: Flask) -> None:
    make_editor("ada@example.org")
    run(app, "token", "ada@example.org")
    token_id = db.session.scalars(select(ApiToken.id)).one()

    result = run(app, "revoke-token", str(token_id))
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    revoked = db.session.get(ApiToken, token_id)
    assert revoked is not None
    assert revoked.revoked_at is not None

    assert run(app, "revoke-token", "999999").exit_code != 0


def test_list_set_role_and_deactivate(app: Flask) -> None:
    make_editor("ada@example.org")
    make_editor("bob@example.org", role=Role.ADMIN)

    listing = run(app, "list")
    assert listing.exit_code == 0
    assert "ada@example.org\teditor\tyes" in listing.output
    assert "bob@example.org\tadmin\tyes" in listing.output

    assert run(app, "set-role", "ada@example.org", "publisher").exit_code == 0
    assert run(app, "set-role", "ada@example.org", "overlord").exit_code != 0
    assert run(app, "deactivate", "bob@example.org").exit_code == 0
    assert run(app, "deactivate", "nobody@example.org").exit_code != 0

    db.session.expire_all()
    ada = db.session.scalars(select(Editor).where(Editor.email == "ada@example.org")).one()
    bob = db.session.scalars(select(Editor).where(Editor.email == "bob@example.org")).one()
    assert ada.role is Role.PUBLISHER
    assert not bob.active
