"""A batch that sends for longer than its lease keeps its rows: no second worker takes them over."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select

from alerts import lifecycle
from core import clock
from core.db import db
from delivery.channels import Job, Outcome, Result
from delivery.claims import claim
from delivery.models import Delivery
from delivery.worker import Worker
from editors.models import Role
from tests.alert_payloads import audi_payload
from tests.factories import make_editor, make_subscription


class SlowSender:
    """Holds its batch until its first lease has run out, then tries to steal it."""

    def __init__(self, app: Flask, lease: float) -> None:
        self.app, self.lease = app, lease
        self.stolen: list[object] | None = None

    def send(self, jobs: list[Job]) -> list[Result]:
        ids = [job.delivery_id for job in jobs]
        with self.app.app_context():
            first = self._lease_end(ids)
            deadline = time.monotonic() + 10
            # The condition: the original lease has run out, and the rows are still held.
            while not (clock.now() > first and self._lease_end(ids) > clock.now()):
                assert time.monotonic() < deadline, "the lease was not renewed"
                threading.Event().wait(0.02)
            self.stolen = list(claim("thief", 100, timedelta(seconds=self.lease)))
            db.session.remove()
        return [Result(row, Outcome.SENT) for row in ids]

    @staticmethod
    def _lease_end(ids: list[int]) -> datetime:
        db.session.rollback()  # read what the keeper committed
        ends = db.session.scalars(select(Delivery.claimed_until).where(Delivery.id.in_(ids))).all()
        return min(end for end in ends if end is not None)

    def close(self) -> None:
        pass


def test_a_slow_batch_keeps_its_lease(app: Flask) -> None:
    clock.freeze(None)  # real time: the lease keeper renews on the wall clock
    lease = 0.3
    app.config["DELIVERY_LEASE_SECONDS"] = lease
    writer, chief = make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER)
    for _ in range(3):
        make_subscription(["NL"])
    alert = lifecycle.create_alert(audi_payload(), writer)
    lifecycle.submit(alert, writer)
    lifecycle.approve(alert, chief)
    lifecycle.publish(alert, chief)
    worker = Worker(app, "slow-worker")
    sender = SlowSender(app, lease)
    worker._senders = {channel: sender for channel in {row.channel for row in db.session.scalars(select(Delivery))}}
    assert worker.run_once() == 3
    assert sender.stolen == []  # still leased after the first lease ran out: renewed while sending
    db.session.expire_all()
    assert {row.status.value for row in db.session.scalars(select(Delivery))} == {"sent"}
