"""Whether any public read changed, without building it, and the rendered bodies kept per process.

Feed readers, widgets, venue screens and CDNs poll every minute or so, and nearly always
nothing changed; during a red alert a crowd asks the API, the embeds and the public pages for
the same few answers thousands of times. The feeds take their ETag from the stamp below; the
other public reads (public_body) keep theirs, made from the body, and use the stamp only to
know that a body they built is still the answer.

Loading 200 alerts with their texts, photos and areas to find that out costs 50 to 100 times
what the answer does, and even one pass over the 200 table rows costs as much as the rest of
a 304. So a request reads only the (state, expires) index:

- count, sum and largest id of the published versions that have not expired. A publication
  adds an id; an update or a withdrawal adds a new version's id (always larger than the one
  it replaces) and removes the old one; an expiry removes ids. Published rows are never
  edited (alerts/lifecycle.py), so equal aggregates mean the same versions;
- the newest expiry that has passed, which moves whenever one of them leaves by time, and
  the next one ahead, which ends the stamp's reuse (below).

What needs the rows themselves (newest publication, newest effective time passed, and the
next effective time ahead, when a version published for later comes into effect) is read
again only when those aggregates change or that next effective time arrives.

Even the index is read at most once a second (REUSE) per process, and a stamp never outlives
the next expiry or effective time, nor a commit in this process. Times are the request's
moment (core.clock), so an alert that expired a second ago changes the ETag at once, before
any sweep marks it expired; only another process's commit can take up to REUSE to show.

The ETag is global, not per filter: a change to any alert renews every feed's ETag, which
costs a reader one needless full answer, never a stale one.

It reads the alert register only, so it lives with the alerts; the feeds, embeds, public pages
and the public API all use it.
"""

from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from threading import Lock
from typing import Any

from flask import Flask, current_app, request
from sqlalchemy import Select, and_, bindparam, case, event, func, select
from sqlalchemy.orm import Session
from werkzeug.http import generate_etag

from alerts.models import AlertVersion
from alerts.vocabulary import State, Status
from core.clock import now
from core.db import db
from core.i18n import locale_code

# Part of every ETag: bump it when the feeds' output changes for the same alerts (a new
# field, a changed template), so readers holding the old ETag get the new shape.
FORMAT = "1"
# Last-Modified of a feed that never had an item.
NEVER_CHANGED = datetime(2025, 1, 1, tzinfo=UTC)
# States in which a version leaves the public side by reaching its expiry. Superseded and
# withdrawn versions left earlier, when the version replacing them was published.
_EXPIRING = (State.PUBLISHED, State.EXPIRED)
# How long a stamp is used without asking the database again. Commits in this process and
# the expiry and effective times of the alerts end it at once; a commit in another process
# (another gunicorn worker, the scheduler) shows in this one's feeds at most this much later.
REUSE = timedelta(seconds=1)
# Where each app keeps its Freshness (app.extensions).
EXTENSION = "signaal.freshness"
_commits = 0


@dataclass(frozen=True)
class Stamp:
    versions: str  # the index aggregates
    last_change: datetime

    def etag(self, kind: str, inputs: str) -> str:
        """A name for what a read of `kind` with `inputs` (every other thing its body depends on) gives now."""
        key = f"{FORMAT}|{kind}|{inputs}|{self.versions}|{self.last_change.isoformat()}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class _Rows:
    """What the rows said, for one set of index aggregates, good from `read_at` until `next_effective`."""

    aggregates: tuple[int, int, int | None]
    read_at: datetime
    published: datetime | None  # of the actual alerts: what feeds show
    effective: datetime | None
    any_effective: datetime | None  # of test and exercise alerts too: their own pages say "in effect"
    next_effective: datetime | None

    def still_good(self, aggregates: tuple[int, int, int | None], moment: datetime) -> bool:
        if aggregates != self.aggregates or moment < self.read_at:
            return False
        return self.next_effective is None or moment < self.next_effective


@dataclass(frozen=True)
class _Recent:
    """A stamp and how long it holds: until the next expiry or effective time, or REUSE at most."""

    stamp: Stamp
    read_at: datetime
    good_until: datetime
    commits: int  # _commits when it was read

    def holds(self, moment: datetime) -> bool:
        return self.commits == _commits and self.read_at <= moment < self.good_until


class Freshness:
    """Per process (in app.extensions): the newest stamp, the rows last read, and the rendered bodies."""

    def __init__(self) -> None:
        self._rows: _Rows | None = None
        self._recent: _Recent | None = None
        self.bodies = BodyCache()

    @staticmethod
    def of(app: Flask) -> Freshness:
        freshness: Freshness | None = app.extensions.get(EXTENSION)
        if freshness is None:
            freshness = app.extensions.setdefault(EXTENSION, Freshness())  # one, even when two threads race
        return freshness

    def stamp(self) -> Stamp:
        moment = now()
        recent = self._recent
        if recent is not None and recent.holds(moment):
            return recent.stamp
        commits = _commits  # read first: a commit while we query makes the next request read again
        # A connection of its own rather than the session: a 304 never sets up an ORM session.
        with db.engine.connect() as connection:
            count, id_sum, id_max, next_expiry, *expired = connection.execute(
                _index_statement(), {"moment": moment}
            ).one()
            aggregates = (count, id_sum, id_max)
            rows = self._rows
            if rows is None or not rows.still_good(aggregates, moment):
                found = connection.execute(_rows_statement(), {"moment": moment}).one()
                rows = self._rows = _Rows(aggregates, moment, *found)
        versions = f"{count}:{id_sum}:{id_max}:{rows.any_effective}"
        stamp = Stamp(versions, last_change(moment, rows.published, rows.effective, *expired))
        ends = [moment + REUSE, next_expiry, rows.next_effective]
        self._recent = _Recent(stamp, moment, min(end for end in ends if end is not None), commits)
        return stamp


@event.listens_for(Session, "after_commit")
def _count_commit(session: Session) -> None:
    # Any commit in this process may have changed alerts: the next feed request reads again.
    global _commits
    _commits += 1


def last_change(moment: datetime, *candidates: datetime | None) -> datetime:
    """The newest moment the public side changed: a publication, an alert taking effect, or one leaving.

    Not only the newest publication among the items: when the newest item expires, the feed
    changed then, and a Last-Modified that went back to an older publication would answer an
    If-Modified-Since from a reader still showing that item with 304.
    """
    moments = [value for value in candidates if value is not None]
    return min(max(moments), moment) if moments else NEVER_CHANGED


# Both statements are built once: building one costs more than SQLite takes to run these.
# Table columns rather than the ORM entity keep them off the ORM's per-execution path.


@functools.cache
def _index_statement() -> Select[Any]:
    """Read from the (state, expires) index alone. Test and exercise versions count too: one
    of those changing renews the ETag for nothing, which is cheaper than reading rows."""
    v = AlertVersion.__table__.c
    moment = bindparam("moment", type_=v.expires.type)
    # One subquery per state (not IN): each is a single seek to the end of an index range.
    expired = [
        select(func.max(v.expires)).where(v.state == state, v.expires <= moment).scalar_subquery()
        for state in _EXPIRING
    ]
    return select(
        func.count(v.id), func.coalesce(func.sum(v.id), 0), func.max(v.id), func.min(v.expires), *expired
    ).where(v.state == State.PUBLISHED, v.expires > moment)


@functools.cache
def _rows_statement() -> Select[Any]:
    v = AlertVersion.__table__.c
    moment = bindparam("moment", type_=v.expires.type)
    in_effect, actual = v.effective <= moment, v.status == Status.ACTUAL
    return select(
        # A publication changes the feed even while the new version is not in effect yet: it
        # replaced the version before it at once.
        func.max(case((actual, v.published_at))),
        func.max(case((and_(actual, in_effect), v.effective))),
        # Test and exercise alerts are in no feed or list, but /alerts/<id> and the API's
        # single alert show them, with a status that changes when they take effect.
        func.max(case((in_effect, v.effective))),
        func.min(case((~in_effect, v.effective))),
    ).where(v.state == State.PUBLISHED, v.expires > moment)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str  # the ETag its answers carry


def public_body(kind: str, inputs: Hashable, build: Callable[[], bytes]) -> Rendered:
    """A public read's body: from this process's cache while no alert changed, else built and kept.

    `inputs` names everything else the body depends on that the request decides: the
    parameters as the view parsed them (so "?x=1" or a reordered query cannot push others out
    of the cache). The negotiated language and the path the app is mounted under (in every
    link url_for makes) are added here because every page depends on them. A body that holds
    anything of one visitor's (a flashed message, a form token) must not come through here.

    The ETag is made from the body, as core.http_cache always made it: the same on every
    worker, and unchanged by changes to other alerts, so a reader's copy stays good until its
    own content changes. The stamp only tells when a kept body may no longer be the answer.
    """
    freshness = Freshness.of(current_app)
    key = freshness.stamp().etag(kind, repr((inputs, locale_code(), request.script_root)))
    rendered = freshness.bodies.get(key)
    if rendered is None:
        # Built after the stamp was read, so never from older rows than the key says; at
        # worst from newer ones, which the next stamp then names and builds once more.
        body = build()
        rendered = Rendered(body, generate_etag(body))
        freshness.bodies.put(key, rendered)
    return rendered


class BodyCache:
    """Rendered bodies by key, the most recently used: the key names everything a body depends on.

    Bounded in bytes because every combination of filters, language and alert has its own
    key (a full feed of 200 alerts is about 200 KB, an alert's page about 20 KB); per process,
    because bodies are cheap to make again and a CDN in front holds the shared copy.
    """

    def __init__(self, max_bytes: int = 16 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._bodies: OrderedDict[str, Rendered] = OrderedDict()
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._bodies)

    def get(self, key: str) -> Rendered | None:
        with self._lock:
            rendered = self._bodies.get(key)
            if rendered is not None:
                self._bodies.move_to_end(key)
            return rendered

    def put(self, key: str, rendered: Rendered) -> None:
        with self._lock:
            replaced = self._bodies.pop(key, None)
            self._bytes -= len(replaced.body) if replaced is not None else 0
            self._bodies[key] = rendered
            self._bytes += len(rendered.body)
            while self._bytes > self._max_bytes and len(self._bodies) > 1:
                _, dropped = self._bodies.popitem(last=False)
                self._bytes -= len(dropped.body)
