"""`flask --app app check`: every unsafe production setting is reported, the command exits 1 on
errors and 0 on a safe configuration, and it never prints a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from subscribers.vapid import generate_pair

SECRET_KEY = "9f2c6a1e8b7d4f03a5c9e1b2d6f8a0c4e7b3d5f9a1c2e4b6"
METRICS_TOKEN = "metrics-token-7f3a9c1e5b2d8f4a"
SMTP_PASSWORD = "smtp-password-e5b2d8f4"


def safe_settings(tmp_path: Path) -> dict[str, Any]:
    private, public = generate_pair()
    return {
        "DEBUG": False,
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_URL": "https://signaal.example.org",
        "VAPID_PRIVATE_KEY": private,
        "VAPID_PUBLIC_KEY": public,
        "VAPID_SUBJECT": "mailto:push-admin@signaal.example.org",
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "smtp.example.net",
        "SMTP_TLS": "starttls",
        "SMTP_PASSWORD": SMTP_PASSWORD,
        "SESSION_COOKIE_SECURE": True,
        "METRICS_TOKEN": METRICS_TOKEN,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "PUSH_ALLOW_PRIVATE_ENDPOINTS": False,
    }


@pytest.fixture(autouse=True)
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("SIGNAAL_CONFIG", str(path))
    return path


def check(app: Flask) -> tuple[int, list[str]]:
    result = app.test_cli_runner().invoke(args=["check"])
    return result.exit_code, result.output.splitlines()


def test_a_safe_configuration_passes(app: Flask, tmp_path: Path) -> None:
    app.config.update(safe_settings(tmp_path))
    code, output = check(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert output[:-1] == [
            "warning: DATABASE_URL: is SQLite: one machine and one worker only; use PostgreSQL in production"
        ]
        assert output[-1] == "0 error(s), 1 warning(s)"
    else:
        assert output == ["no unsafe settings found"]
    assert code == 0


def test_every_unsafe_setting_is_reported_without_its_value(app: Flask, tmp_path: Path, config_file: Path) -> None:
    config_file.write_text(f'SMTP_PASSWORD = "{SMTP_PASSWORD}"\nMETRICS_TOKEN = "{METRICS_TOKEN[:10]}"\n')
    app.config.update(
        safe_settings(tmp_path)
        | {
            "SECRET_KEY": "short-key-1234",
            "DEBUG": True,
            "PUBLIC_URL": "http://signaal.example.org",
            "VAPID_PRIVATE_KEY": "",
            "VAPID_PUBLIC_KEY": "",
            "VAPID_FILE": str(tmp_path / "missing-vapid.json"),
            "VAPID_SUBJECT": "push-admin@signaal.example.org",  # neither mailto: nor https:
            "SMTP_TLS": "none",
            "SESSION_COOKIE_SECURE": False,
            "METRICS_TOKEN": METRICS_TOKEN[:10],
            "RATELIMIT_STORAGE_URI": "memory://",
            "PUSH_ALLOW_PRIVATE_ENDPOINTS": True,
        }
    )
    code, output = check(app)
    assert code == 1
    reported = {tuple(line.split(": ", 2)[:2]) for line in output[:-1]}
    expected = {
        ("error", "SECRET_KEY"),
        ("error", "DEBUG"),
        ("error", "PUBLIC_URL"),
        ("error", "VAPID_SUBJECT"),
        ("error", "VAPID_PRIVATE_KEY"),
        ("error", "SMTP_TLS"),
        ("error", "PUSH_ALLOW_PRIVATE_ENDPOINTS"),
        ("error", "SESSION_COOKIE_SECURE"),
        ("error", "METRICS_TOKEN"),
        ("warning", "RATELIMIT_STORAGE_URI"),
        ("warning", "SMTP_PASSWORD"),  # in the config file, not the environment
        ("warning", "METRICS_TOKEN"),
    }
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        expected.add(("warning", "DATABASE_URL"))
    assert reported == expected
    assert len(output) - 1 == len(expected)  # one line each
    assert output[-1] == f"9 error(s), {len(expected) - 9} warning(s)"
    text = "\n".join(output)
    for secret in ("short-key-1234", METRICS_TOKEN[:10], SMTP_PASSWORD, "push-admin@signaal.example.org"):
        assert secret not in text


@pytest.mark.parametrize(
    ("changes", "finding"),
    [
        ({"SECRET_KEY": "test-secret-key-not-for-production"}, "error: SECRET_KEY: is a placeholder"),
        ({"SECRET_KEY": "changeme"}, "error: SECRET_KEY: is a placeholder"),
        ({"METRICS_TOKEN": ""}, "error: METRICS_TOKEN: is not set"),
        ({"VAPID_PRIVATE_KEY": "bm90LWEta2V5", "VAPID_PUBLIC_KEY": ""}, "error: VAPID_PRIVATE_KEY: no usable"),
        ({"VAPID_SUBJECT": "", "SENDER": "signaal@example.org"}, "error: VAPID_SUBJECT: is not set and SENDER"),
        ({"MAIL_BACKEND": "console"}, "warning: MAIL_BACKEND: is console"),
    ],
)
def test_one_finding_each(app: Flask, tmp_path: Path, changes: dict[str, Any], finding: str) -> None:
    app.config.update(safe_settings(tmp_path) | changes)
    code, output = check(app)
    assert [line for line in output if line.startswith(finding)], output
    assert code == (1 if finding.startswith("error") else 0)
    assert not any(str(value) in "\n".join(output) for value in changes.values() if len(str(value)) > 8)


def test_smtp_without_tls_is_fine_on_this_machine(app: Flask, tmp_path: Path) -> None:
    app.config.update(safe_settings(tmp_path) | {"SMTP_HOST": "127.0.0.1", "SMTP_TLS": "none"})
    assert not [line for line in check(app)[1] if "SMTP_TLS" in line]


def test_the_development_secret_key_is_a_warning(app: Flask, tmp_path: Path) -> None:
    # What core.config does without SECRET_KEY: a random key kept in instance/secret_key.
    app.instance_path = str(tmp_path)
    (tmp_path / "secret_key").write_text(SECRET_KEY + "\n")
    app.config.update(safe_settings(tmp_path))
    code, output = check(app)
    assert [line for line in output if line.startswith("warning: SECRET_KEY: is not set")]
    assert code == 0
