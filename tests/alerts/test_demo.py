"""`flask demo load`: the demo data that `make run` starts with."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from alerts.models import Alert
from alerts.queries import active_versions
from core.db import db
from editors.models import Editor


def test_demo_load_is_idempotent_and_prints_the_login(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "demo: loaded 5 alerts" in first.output
    assert "publisher@signaal.demo / " in first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "loaded" not in second.output
    password = first.output.split("publisher@signaal.demo / ")[1].split()[0]
    assert password in second.output  # the same login is printed again
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 5
    assert db.session.scalar(select(func.count()).select_from(Editor)) == 2
    active = active_versions()
    assert active[0].alert.incident_key == "demo-audi-300mg"  # the red alert comes first
    assert len(active) == 4
