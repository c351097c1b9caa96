"""Renewing a batch's lease while its sending runs.

A batch to a slow push service can take longer than the lease (500 rows, 64 in flight,
15 s timeouts: minutes). Without renewal another worker would take the rows over while the
first still sends them, and subscribers would get the alert twice. A worker that dies stops
renewing, so its rows still return to the pool one lease later.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask

from core.db import db

from . import claims

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, app: Flask, worker_id: str, ids: list[int], lease: timedelta) -> None:
        self.app, self.worker_id, self.ids, self.lease = app, worker_id, ids, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delivery-lease", daemon=True)
        self.renewals = 0

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        # Renew at a third of the lease: two renewals may fail before the rows are at risk.
        interval = self.lease.total_seconds() / 3
        while not self._stop.wait(interval):
            with self.app.app_context():
                try:
                    claims.extend_lease(self.worker_id, self.ids, self.lease)
                    self.renewals += 1
                except Exception:
                    db.session.rollback()
                    log.exception("could not renew the lease of %d delivery rows", len(self.ids))
                finally:
                    db.session.remove()
