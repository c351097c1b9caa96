"""Areas as the matching rule sees them: region codes, and circles turned into codes or vectors."""

from __future__ import annotations

import math
from typing import NamedTuple

from alerts.models import AlertVersion
from regions import geo
from regions.reach import circle_leaves

from .models import Subscription, SubscriptionArea


class CircleVector(NamedTuple):
    """A circle on the sphere: centre as a unit vector, angular radius as cosine and sine."""

    x: float
    y: float
    z: float
    cos_r: float
    sin_r: float


def circle_vector(lat: float, lon: float, radius_km: float) -> CircleVector:
    phi, lam = math.radians(lat), math.radians(lon)
    angle = radius_km / geo.EARTH_RADIUS_KM
    return CircleVector(
        math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi), math.cos(angle), math.sin(angle)
    )


def circle_vectors_meet(alert: CircleVector, sub: CircleVector) -> bool:
    """Centres closer than the sum of the radii: cos(distance) >= cos(r1 + r2).

    Written in the order matching._circle_condition uses in SQL, so both round alike.
    Radii are at most 1,000 km each, so r1 + r2 stays far below π where cos stops falling.
    """
    dot = sub.x * alert.x + sub.y * alert.y + sub.z * alert.z
    return dot >= alert.cos_r * sub.cos_r - alert.sin_r * sub.sin_r


def alert_circle(version: AlertVersion) -> CircleVector | None:
    if version.circle_lat is None or version.circle_lon is None or version.circle_radius_km is None:
        return None
    return circle_vector(version.circle_lat, version.circle_lon, version.circle_radius_km)


def subscription_circle(subscription: Subscription) -> CircleVector | None:
    s = subscription
    if s.circle_x is None or s.circle_y is None or s.circle_z is None:
        return None
    assert s.circle_cos_r is not None and s.circle_sin_r is not None
    return CircleVector(s.circle_x, s.circle_y, s.circle_z, s.circle_cos_r, s.circle_sin_r)


def set_areas(subscription: Subscription, codes: list[str], circle: tuple[float, float, float] | None) -> None:
    """Replace the subscriber's regions and circle; the circle adds derived leaf regions."""
    # Reuse rows for codes that stay: replacing them would insert before deleting and trip the
    # unique (subscription, code) constraint.
    existing = {area.code: area for area in subscription.areas}

    def row(code: str, derived: bool) -> SubscriptionArea:
        area = existing.get(code) or SubscriptionArea(code=code)
        area.derived = derived
        return area

    rows = {code: row(code, False) for code in codes}
    if circle is None:
        subscription.circle_lat = subscription.circle_lon = subscription.circle_radius_km = None
        subscription.circle_x = subscription.circle_y = subscription.circle_z = None
        subscription.circle_cos_r = subscription.circle_sin_r = None
    else:
        lat, lon, radius = circle
        vector = circle_vector(lat, lon, radius)
        subscription.circle_lat, subscription.circle_lon, subscription.circle_radius_km = lat, lon, radius
        subscription.circle_x, subscription.circle_y, subscription.circle_z = vector.x, vector.y, vector.z
        subscription.circle_cos_r, subscription.circle_sin_r = vector.cos_r, vector.sin_r
        for code in circle_leaves(lat, lon, radius):
            if code not in rows:
                rows[code] = row(code, True)
    subscription.areas = list(rows.values())
