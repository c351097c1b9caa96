"""Fixtures for the attack tests: the email side's (a real SMTP server on loopback, the app
sending to it), and a small populated site to attack (site.py), on each database."""

from __future__ import annotations

import pytest
from flask import Flask

from ..subscribers.conftest import mail_app, smtp_server  # noqa: F401  (fixtures, found by name)
from .site import World, make_world


@pytest.fixture
def world(app: Flask) -> World:
    return make_world(app)
