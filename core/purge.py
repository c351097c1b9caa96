"""Deleting old rows in bounded batches: the shared mechanics of the retention jobs.

Each batch is a short transaction of its own, so purging millions of rows never holds one long
transaction or many locks: the outbox and the pages keep working beside it. On PostgreSQL a
batch is chosen with FOR UPDATE SKIP LOCKED, so two purges running at once take different rows
and a row someone else holds simply waits for the next run. On SQLite the DELETE is the
transaction's first statement, so it takes the write lock at once: a SELECT first would have to
upgrade its read snapshot later, which fails when another process wrote in between.

Every job built on this is idempotent: what it deletes is decided by the rows as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import ColumnElement, Delete, Row, delete, select
from sqlalchemy.orm import QueryableAttribute

from core.clock import now
from core.db import db

BATCH_SIZE = 1000


def cutoff(key: str, unit: str = "days") -> datetime | None:
    """now() minus the retention window a setting gives; None when it is 0 (keep for ever)."""
    value = current_app.config[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{key} must be a number of {unit} (0 keeps for ever), not {value!r}")
    if value == 0:
        return None
    return now() - timedelta(**{unit: value})


def delete_in_batches(
    model: Any,
    where: Sequence[ColumnElement[bool]],
    *,
    batch_size: int = BATCH_SIZE,
    returning: Sequence[QueryableAttribute[Any]] = (),
    each: Callable[[Sequence[Row[Any]]], None] | None = None,
) -> int:
    """Delete the rows of `model` (with an integer `id`) matching `where`; the number deleted.

    With `returning`, `each` gets the columns of every batch's deleted rows inside that batch's
    transaction, so whatever it writes commits together with the deletion, exactly once.
    """
    total = 0
    while True:
        statement = _batch(model, where, batch_size)
        if returning:
            rows = db.session.execute(statement.returning(*returning)).all()
            if each is not None and rows:
                each(rows)
            deleted = len(rows)
        else:
            deleted = int(db.session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
        db.session.commit()
        total += deleted
        # Fewer than a batch: nothing left, or another purge is taking the rest.
        if deleted < batch_size:
            return total


def _batch(model: Any, where: Sequence[ColumnElement[bool]], batch_size: int) -> Delete:
    ids = select(model.id).where(*where).order_by(model.id).limit(batch_size)
    if db.session.get_bind().dialect.name == "postgresql":
        # Locked once, in a CTE that runs exactly once (as delivery.claims does): a subquery the
        # planner re-ran per row could lock more than a batch.
        doomed = ids.with_for_update(skip_locked=True).cte("doomed").prefix_with("MATERIALIZED")
        statement = delete(model).where(model.id == doomed.c.id)
    else:
        statement = delete(model).where(model.id.in_(ids.scalar_subquery()))
    return statement.execution_options(synchronize_session=False)


Job = Callable[[], int]


def purge_command(jobs: Callable[[], list[Job]]) -> click.Command:
    """`flask purge`: run every retention job once, now, and say how many rows each removed."""

    @click.command("purge")
    @with_appcontext
    def purge() -> None:
        """Delete what is past its retention window (the scheduler does this every hour)."""
        for job in jobs():
            click.echo(f"{job.__module__}.{job.__name__}: {job()} deleted")

    return purge
