"""Published alerts for feed tests, made the only way real ones are: through alerts.lifecycle."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image

from alerts import lifecycle
from alerts.models import Alert
from editors.models import Editor, Role
from tests.alert_payloads import audi_payload
from tests.factories import make_editor


@dataclass
class Team:
    writer: Editor
    chief: Editor


def make_team() -> Team:
    return Team(make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER))


def jpeg(colour: tuple[int, int, int] = (200, 180, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 32), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def publish_new(team: Team, photo: bool = False, **overrides: Any) -> Alert:
    """A new alert (the Audi pill unless overridden), optionally with a photo, published."""
    alert = lifecycle.create_alert(audi_payload(**overrides), team.writer)
    if photo:
        alt = {"nl": "Beige-gouden tablet met Audi-logo", "en": "Beige-gold tablet with the Audi logo"}
        lifecycle.add_photo(alert, jpeg(), team.writer, alt_text=alt, credit="Lab & Co")
    return _through_review(alert, team)


def publish_update(alert: Alert, team: Team, **changes: Any) -> Alert:
    lifecycle.edit(alert, changes, team.writer, partial=True)
    return _through_review(alert, team)


def withdraw(alert: Alert, team: Team, note: str = "No further samples") -> Alert:
    lifecycle.withdraw(alert, team.chief, "no_longer_circulating", note)
    return alert


def _through_review(alert: Alert, team: Team) -> Alert:
    lifecycle.submit(alert, team.writer)
    lifecycle.approve(alert, team.chief)
    lifecycle.publish(alert, team.chief)
    return alert
