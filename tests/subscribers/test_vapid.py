"""VAPID keys: `flask vapid generate`, the key file, config keys winning over it, the subject."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from py_vapid import Vapid

from app import create_app
from subscribers.vapid import VapidError, b64url_decode, generate_pair, vapid_keys


@pytest.fixture
def vapid_app(tmp_path: Path) -> Flask:
    """No database needed: these tests only read and write key files."""
    return make_app(tmp_path)


def make_app(tmp_path: Path, **config: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
            "VAPID_FILE": str(tmp_path / "keys" / "vapid.json"),
            **config,
        }
    )


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["vapid", *args])


def key_file(app: Flask) -> Path:
    return Path(app.config["VAPID_FILE"])


def test_generate_writes_a_private_key_file(vapid_app: Flask) -> None:
    result = run(vapid_app, "generate")
    assert result.exit_code == 0, result.output
    path = key_file(vapid_app)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p != path]  # no temporary file left behind
    stored = json.loads(path.read_text())
    keys = vapid_keys(vapid_app)
    assert keys.private_key == stored["private_key"] and keys.public_key == stored["public_key"]
    assert keys.public_key in result.output and keys.private_key not in result.output
    point = b64url_decode(keys.public_key)
    assert len(point) == 65 and point[0] == 4  # what applicationServerKey wants
    assert keys.private_key not in repr(keys)


def test_the_keys_sign_what_push_services_verify(vapid_app: Flask) -> None:
    run(vapid_app, "generate")
    keys = vapid_keys(vapid_app)
    claims = {"aud": "https://fcm.googleapis.com", "sub": keys.subject, "exp": 9999999999}
    header = keys.signer().sign(claims)["Authorization"]
    assert Vapid.verify(header)
    assert f"k={keys.public_key}" in header


def test_generate_keeps_existing_keys(vapid_app: Flask) -> None:
    run(vapid_app, "generate")
    before = key_file(vapid_app).read_text()
    again = run(vapid_app, "generate")
    assert again.exit_code == 1 and "--force" in again.output
    quiet = run(vapid_app, "generate", "--if-missing")
    assert quiet.exit_code == 0 and quiet.output == ""
    assert key_file(vapid_app).read_text() == before


def test_force_replaces_with_a_warning(vapid_app: Flask) -> None:
    run(vapid_app, "generate")
    old = vapid_keys(vapid_app).public_key
    result = run(vapid_app, "generate", "--force")
    assert result.exit_code == 0
    assert "invalidates every existing push subscription" in result.output
    assert vapid_keys(vapid_app).public_key != old
    assert stat.S_IMODE(key_file(vapid_app).stat().st_mode) == 0o600
    assert run(vapid_app, "generate", "--force", "--if-missing").exit_code == 2


def test_no_keys_says_how_to_make_them(vapid_app: Flask) -> None:
    with pytest.raises(VapidError, match="vapid generate"):
        vapid_keys(vapid_app)
    result = run(vapid_app, "public-key")
    assert result.exit_code == 1 and "vapid generate" in result.output


def test_config_keys_win_over_the_file(tmp_path: Path) -> None:
    private, public = generate_pair()
    app = make_app(tmp_path, VAPID_PRIVATE_KEY=private)
    run(app, "generate")  # a file exists too
    assert vapid_keys(app).public_key == public  # derived from the configured private key
    assert run(app, "public-key").output.strip() == public
    assert vapid_keys(make_app(tmp_path, VAPID_PRIVATE_KEY=private, VAPID_PUBLIC_KEY=public)).public_key == public


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"VAPID_PRIVATE_KEY": generate_pair()[0], "VAPID_PUBLIC_KEY": generate_pair()[1]}, "does not belong"),
        ({"VAPID_PUBLIC_KEY": generate_pair()[1]}, "without VAPID_PRIVATE_KEY"),
        ({"VAPID_PRIVATE_KEY": "not-a-key"}, "not a base64url P-256 key"),
    ],
)
def test_inconsistent_config_keys_are_refused(tmp_path: Path, config: dict[str, str], message: str) -> None:
    with pytest.raises(VapidError, match=message):
        vapid_keys(make_app(tmp_path, **config))


@pytest.mark.parametrize(
    ("config", "subject"),
    [
        ({}, "mailto:signaal@example.org"),  # from SENDER
        ({"SENDER": "alerts@drugsinfo.example"}, "mailto:alerts@drugsinfo.example"),
        ({"VAPID_SUBJECT": "https://signaal.example.org/contact"}, "https://signaal.example.org/contact"),
        ({"VAPID_SUBJECT": "mailto:push@signaal.example.org"}, "mailto:push@signaal.example.org"),
    ],
)
def test_subject(tmp_path: Path, config: dict[str, str], subject: str) -> None:
    app = make_app(tmp_path, VAPID_PRIVATE_KEY=generate_pair()[0], **config)
    assert vapid_keys(app).subject == subject


@pytest.mark.parametrize("subject", ["push@signaal.example.org", "mailto:nobody", "http://signaal.example.org", "x"])
def test_subject_must_be_mailto_or_https(tmp_path: Path, subject: str) -> None:
    app = make_app(tmp_path, VAPID_PRIVATE_KEY=generate_pair()[0], VAPID_SUBJECT=subject)
    with pytest.raises(VapidError, match="mailto: address or an https: URL"):
        vapid_keys(app)
