"""Fixtures for the email side: a real SMTP server on loopback, and the app sending to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from .smtp_server import SmtpServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(app: Flask, smtp_server: SmtpServer) -> Flask:
    """The test app with MAIL_BACKEND smtp pointed at `smtp_server` (settings are read per mail)."""
    app.config.update(
        MAIL_BACKEND="smtp",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        SMTP_TLS="none",
        SMTP_TIMEOUT_SECONDS=5,
        MAIL_FROM="Signaal <alerts@signaal.test>",
    )
    return app
