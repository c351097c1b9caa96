from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app


def test_defaults_use_sqlite_under_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNAAL_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("SIGNAAL_DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/signaal.db")


def test_layers_toml_then_environment_then_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "config.toml"
    toml.write_text('SENDER = "from-file@example.org"\nSENDER_NAME = "File"\nSINGLE_PERSON_PUBLISHING = true\n')
    monkeypatch.setenv("SIGNAAL_CONFIG", str(toml))
    monkeypatch.setenv("SIGNAAL_SENDER_NAME", '"Env"')
    monkeypatch.setenv("SIGNAAL_DATABASE_URL", "postgresql://u@db.example/signaal")
    app = create_app({"SECRET_KEY": "x", "SENDER": "override@example.org"})
    assert app.config["SENDER"] == "override@example.org"
    assert app.config["SENDER_NAME"] == "Env"
    assert app.config["SINGLE_PERSON_PUBLISHING"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/signaal"
