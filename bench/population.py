"""A seeded, realistic population of subscriptions, written with SQLAlchemy Core in batches.

Rows are produced in the shape subscribers.areas.set_areas() would leave them (circle
vector columns, derived leaf areas), but as plain dicts for executemany: building a million
ORM objects would measure the ORM, not the database.

Where subscribers live is a guess from a rough proxy, not data we hold:
- a municipality's weight is its rough population in thousands for the 25 largest cities
  (hand list below, about 2024), times 1.5 for their nightlife; every other municipality
  weighs 30 (roughly the median municipality). So about 45% of municipal subscribers
  choose one of those 25 cities, Amsterdam alone about 8%;
- a province's weight is its rough population in hundreds of thousands;
- a circle is centred on a weighted municipality's point (what a place picker returns), with
  a radius of 3 to 50 km, mostly 5 to 10.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from alerts.vocabulary import FORMS
from regions import tree
from regions.reach import circle_leaves
from subscribers.areas import circle_vector
from subscribers.interests import SUBSTANCE_GROUPS
from subscribers.models import Subscription, SubscriptionArea

# Rough population in thousands of the largest municipalities.
BIG_CITIES: dict[str, int] = {
    "GM0363": 930,  # Amsterdam
    "GM0599": 665,  # Rotterdam
    "GM0518": 560,  # 's-Gravenhage
    "GM0344": 370,  # Utrecht
    "GM0772": 240,  # Eindhoven
    "GM0014": 240,  # Groningen
    "GM0855": 225,  # Tilburg
    "GM0034": 220,  # Almere
    "GM0758": 185,  # Breda
    "GM0268": 180,  # Nijmegen
    "GM0200": 165,  # Apeldoorn
    "GM0202": 165,  # Arnhem
    "GM0392": 165,  # Haarlem
    "GM0394": 160,  # Haarlemmermeer
    "GM0153": 160,  # Enschede
    "GM0307": 160,  # Amersfoort
    "GM0796": 160,  # 's-Hertogenbosch
    "GM0479": 160,  # Zaanstad
    "GM0193": 130,  # Zwolle
    "GM0546": 125,  # Leiden
    "GM0637": 125,  # Zoetermeer
    "GM0080": 125,  # Leeuwarden
    "GM0935": 122,  # Maastricht
    "GM0505": 120,  # Dordrecht
    "GM0228": 120,  # Ede
}
NIGHTLIFE_FACTOR = 1.5
OTHER_MUNICIPALITY = 30
PROVINCES: dict[str, int] = {
    "NL-ZH": 38,
    "NL-NH": 29,
    "NL-NB": 26,
    "NL-GE": 21,
    "NL-UT": 14,
    "NL-OV": 12,
    "NL-LI": 11,
    "NL-FR": 7,
    "NL-GR": 6,
    "NL-DR": 5,
    "NL-FL": 5,
    "NL-ZE": 4,
}
# Subscribers abroad: holiday and festival destinations, neighbours, expats.
ABROAD: dict[str, int] = {
    "BE": 20, "BE-VLG": 10, "BE-BRU": 5, "DE": 15, "DE-NW": 10, "DE-BE": 5,
    "ES-MD": 5, "ES-IB": 8, "ES-CT": 5, "GB": 10, "GB-ENG": 5, "FR": 5, "PT": 3,
}  # fmt: skip
# Kind of area choice: (kind, weight in percent).
KINDS = (("municipality", 45), ("province", 25), ("country", 10), ("several", 10), ("circle", 5), ("abroad", 5))
RADII = ((3, 10), (5, 30), (10, 30), (15, 12), (25, 12), (50, 6))
MIN_LEVEL = (45, 35, 15, 5)  # info, caution, warning, red_alert
FORM_WEIGHTS = (40, 30, 10, 10, 5, 5)  # tablet, powder, crystal, capsule, liquid, blotter
SUBSTANCE_WEIGHTS = (30, 20, 15, 10, 8, 5, 4, 4, 3, 1)  # mdma, cocaine, ketamine, ... other
CREATED = datetime(2025, 1, 1, tzinfo=UTC)

SUBSCRIPTIONS = Subscription.__table__
AREAS = SubscriptionArea.__table__


class Weighted:
    """A weighted draw with the cumulative weights worked out once (random.choices redoes them)."""

    def __init__(self, items: list[Any], weights: list[float]) -> None:
        self.items = items
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]


def _weighted(pairs: dict[Any, int] | tuple[tuple[Any, int], ...]) -> Weighted:
    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    return Weighted([item for item, _ in items], [weight for _, weight in items])


class Population:
    """Draws subscription rows; the same seed gives the same rows on every database."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        municipalities = [c for c in tree.descendants("NL") if (r := tree.get(c)) and r.kind == "municipality"]
        self.municipalities = municipalities
        self.municipality = Weighted(
            municipalities,
            [BIG_CITIES[c] * NIGHTLIFE_FACTOR if c in BIG_CITIES else OTHER_MUNICIPALITY for c in municipalities],
        )
        self.province, self.abroad = _weighted(PROVINCES), _weighted(ABROAD)
        self.kind, self.radius = _weighted(KINDS), _weighted(RADII)
        self.min_level = _weighted(tuple(enumerate(MIN_LEVEL)))
        self._leaves: dict[tuple[float, float, float], frozenset[str]] = {}

    def _municipality(self) -> str:
        return str(self.municipality.draw(self.rng))

    def _circle_leaves(self, circle: tuple[float, float, float]) -> frozenset[str]:
        # circle_leaves() keeps 4,096 circles; a dict of our own never evicts.
        if circle not in self._leaves:
            self._leaves[circle] = circle_leaves(*circle)
        return self._leaves[circle]

    def _areas(self, kind: str) -> tuple[list[str], tuple[float, float, float] | None]:
        if kind == "municipality":
            return [self._municipality()], None
        if kind == "province":
            return [self.province.draw(self.rng)], None
        if kind == "country":
            return ["NL"], None
        if kind == "several":
            codes: list[str] = []
            wanted = self.rng.choice((2, 3))
            while len(codes) < wanted:
                code = self._municipality()
                if code not in codes:
                    codes.append(code)
            return codes, None
        if kind == "circle":
            centre = tree.get(self._municipality())
            assert centre is not None and centre.lat is not None and centre.lon is not None
            radius = float(self.radius.draw(self.rng))
            return [], (centre.lat, centre.lon, radius)
        return [self.abroad.draw(self.rng)], None

    def _mask(self, vocabulary_size: int, weights: tuple[int, ...] | None = None) -> int:
        count = self.rng.choice((1, 1, 2, 3))
        chosen = self.rng.choices(range(vocabulary_size), weights=weights, k=count)
        return sum(1 << i for i in set(chosen))

    def row(self, sub_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """One subscription row and its area rows, as set_areas() would store them."""
        rng = self.rng
        kind = self.kind.draw(rng)
        codes, circle = self._areas(kind)
        public_id = f"{rng.getrandbits(128):032x}"
        email = rng.random() < 0.2
        state = rng.random()
        filters = rng.random()
        quiet = rng.random() < 0.1
        row: dict[str, Any] = {
            "id": sub_id,
            "public_id": public_id,
            "channel": "email" if email else "push",
            # ~1.5% unconfirmed email addresses, ~1.5% paused.
            "active": state >= 0.015,
            "paused": 0.015 <= state < 0.03,
            "created_at": CREATED,
            "updated_at": CREATED,
            "confirmed_at": CREATED if state >= 0.015 and email else None,
            "language": "nl" if rng.random() < 0.75 else "en",
            "accept_fallback": rng.random() < 0.95,
            "min_level_rank": self.min_level.draw(rng),
            # ~5% forms only, ~1% both, ~4% substances only.
            "forms_mask": self._mask(len(FORMS), FORM_WEIGHTS) if filters < 0.06 else 0,
            "substances_mask": self._mask(len(SUBSTANCE_GROUPS), SUBSTANCE_WEIGHTS) if 0.05 <= filters < 0.1 else 0,
            "quiet_start": 23 * 60 if quiet else 0,
            "quiet_end": 7 * 60 if quiet else 0,
            "timezone": "Europe/Amsterdam",
            "digest": "daily" if rng.random() < 0.05 else "off",
            "digest_hour": 9,
            "digest_weekday": 0,
            "endpoint": None if email else f"https://push.example.net/{public_id}",
            "p256dh": None if email else "B" + "x" * 86,
            "auth": None if email else "a" * 22,
            "email": f"{public_id}@example.net" if email else None,
        }
        row.update(dict.fromkeys(("circle_lat", "circle_lon", "circle_radius_km"), None))
        row.update(dict.fromkeys(("circle_x", "circle_y", "circle_z", "circle_cos_r", "circle_sin_r"), None))
        areas = {code: False for code in codes}
        if circle is not None:
            vector = circle_vector(*circle)
            row.update(circle_lat=circle[0], circle_lon=circle[1], circle_radius_km=circle[2])
            row.update(circle_x=vector.x, circle_y=vector.y, circle_z=vector.z)
            row.update(circle_cos_r=vector.cos_r, circle_sin_r=vector.sin_r)
            for code in sorted(self._circle_leaves(circle)):
                areas.setdefault(code, True)
        area_rows = [{"subscription_id": sub_id, "code": code, "derived": derived} for code, derived in areas.items()]
        return row, area_rows

    def batches(self, count: int, size: int) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        for start in range(1, count + 1, size):
            subs: list[dict[str, Any]] = []
            areas: list[dict[str, Any]] = []
            for sub_id in range(start, min(start + size, count + 1)):
                row, area_rows = self.row(sub_id)
                subs.append(row)
                areas.extend(area_rows)
            yield subs, areas


def load(engine: sa.Engine, count: int, seed: int, batch_size: int = 20_000) -> tuple[int, float]:
    """Insert `count` subscriptions; returns the number of area rows and the seconds spent drawing rows."""
    population = Population(seed)
    area_count = 0
    drawing = 0.0
    batches = population.batches(count, batch_size)
    while True:
        started = time.perf_counter()
        batch = next(batches, None)
        drawing += time.perf_counter() - started
        if batch is None:
            break
        subs, areas = batch
        with engine.begin() as conn:
            conn.execute(sa.insert(SUBSCRIPTIONS), subs)
            conn.execute(sa.insert(AREAS), areas)
        area_count += len(areas)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('subscriptions', 'id'), :n)"), {"n": count})
    return area_count, drawing
