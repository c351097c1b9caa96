"""Fixtures: every test that takes `app` runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app
from core import clock
from core.db import db
from editors import passwords

from .databases import PG_HINT, empty_all_tables, pg_available, temporary_pg_database

# In CI every test must run: a missing server is a failure, not a skip.
REQUIRE_ALL = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_report_header() -> list[str]:
    if pg_available():
        return []
    return [("FAIL: " if REQUIRE_ALL else "SKIP: ") + PG_HINT]


def _base_config(database_url: str, tmp: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "UPLOAD_DIR": str(tmp / "photos"),
        "SCHEDULER_IN_WEB": False,
        "DELIVERY_IN_WEB": False,
        # Tests of the real channels choose them; everything else records what it would send.
        "DELIVERY_PUSH_BACKEND": "recording",
        "DELIVERY_EMAIL_BACKEND": "recording",
        "PUBLIC_URL": "https://signaal.test",
        # Tests sign the same address up again and count the mails; the one-mail window is
        # tested on its own (tests/security/test_signup_mail_limit.py), which turns it on.
        "SIGNUP_MAIL_WINDOW_SECONDS": 0,
    }


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> None:
    """Real argon2id, with parameters cheap enough for the hundreds of logins tests do.

    Production keeps argon2-cffi's RFC 9106 defaults (about 50 ms a hash, 400 ms under load).
    """
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database per kind for the whole session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'signaal.db'}"
        _migrate(url, tmp_path_factory.mktemp("mig"))
        yield url
        return
    if not pg_available():
        if REQUIRE_ALL:
            pytest.fail(PG_HINT)
        pytest.skip(PG_HINT)
    with temporary_pg_database() as url:
        _migrate(url, tmp_path_factory.mktemp("mig"))
        yield url


def _migrate(url: str, tmp: Path) -> None:
    app = create_app(_base_config(url, tmp))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(_base_config(database_url, tmp_path))
    with app.app_context():
        yield app
        db.session.remove()
        empty_all_tables(db.engine, db.metadata)
        db.engine.dispose()
    clock.freeze(None)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
