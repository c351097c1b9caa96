"""Circles (lat, lon, radius in km) on alerts and subscriptions, compared with each other and
with regions.

We have no region outlines, only a point per region, so a region is treated as a circle
around its centroid. That is an approximation and errs on the generous side: a warning that
reaches a few people just over a border is better than one that misses people inside it.

Radii:
- a Dutch municipality: MUNICIPALITY_RADIUS_KM. Its true equivalent radius sqrt(area/π) runs
  from a few km (small town municipalities) to about 16 km (Súdwest-Fryslân, some 830 km²
  with its lakes); the average, 41,500 km² over 342 municipalities, gives about 6 km. We do
  not ship areas, so one round figure a little above the average stands in for all of them;
- a Dutch province and the Netherlands: measured from the data, the distance from the
  region's point to its farthest municipality point plus MUNICIPALITY_RADIUS_KM, so the
  circle covers every member municipality's circle;
- any other country: COUNTRY_RADIUS_KM around its centroid. Too small for big countries
  (London is over 400 km from the United Kingdom's point), far too big for Luxembourg; we
  ship no country areas. Outside the Netherlands, prefer region codes to circles;
- any other subdivision: its own point is unknown, so it stands in with its country's circle
  (Region.centroid_is_approximate). A smaller circle around the country's point would miss
  most of the subdivision; the country's circle at least errs towards reaching people.
  SUBDIVISION_RADIUS_KM is for a subdivision with a point of its own but no municipalities
  below it; none exists today.
A region without any centroid (a few ISO codes newer than the centroid list) meets no circle.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

from . import tree

# Mean Earth radius (IUGG); the spherical model is within 0.5% of the ellipsoid.
EARTH_RADIUS_KM = 6371.0088

MUNICIPALITY_RADIUS_KM = 8.0
SUBDIVISION_RADIUS_KM = 50.0
COUNTRY_RADIUS_KM = 300.0

_DEFAULT_RADIUS_KM: dict[str, float] = {
    "municipality": MUNICIPALITY_RADIUS_KM,
    "subdivision": SUBDIVISION_RADIUS_KM,
    "country": COUNTRY_RADIUS_KM,
}


class Circle(NamedTuple):
    lat: float
    lon: float
    radius_km: float


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two WGS84 points, in km."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    # min() guards against rounding pushing h a hair above 1 for antipodal points.
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def validate(circle: Circle | tuple[float, float, float]) -> Circle:
    """The circle as a Circle; ValueError for coordinates off the globe or a bad radius."""
    lat, lon, radius_km = (float(value) for value in circle)
    if not -90.0 <= lat <= 90.0 or not -180.0 <= lon <= 180.0:
        raise ValueError(f"not a WGS84 point: ({lat}, {lon})")
    if not (math.isfinite(radius_km) and radius_km >= 0):
        raise ValueError(f"radius must be a finite number of km >= 0, not {radius_km}")
    return Circle(lat, lon, radius_km)


def circles_meet(a: Circle | tuple[float, float, float], b: Circle | tuple[float, float, float]) -> bool:
    """Whether two circles overlap or touch."""
    a, b = validate(a), validate(b)
    return haversine_km(a.lat, a.lon, b.lat, b.lon) <= a.radius_km + b.radius_km


def region_circle(code: str) -> Circle | None:
    """The circle standing in for a region, or None when it has no centroid. KeyError if unknown."""
    region = tree.get(code)
    if region is None:
        raise KeyError(f"unknown region {code!r}")
    return _region_circle(region.code)


@functools.cache
def _region_circle(code: str) -> Circle | None:
    region = tree.get(code)
    assert region is not None
    if region.lat is None or region.lon is None:
        return None
    lat, lon = region.lat, region.lon
    # Only Dutch provinces and the Netherlands have municipalities with points below them.
    member_distances = [
        haversine_km(lat, lon, member.lat, member.lon)
        for member in map(tree.get, tree.descendants(code))
        if member is not None and member.kind == "municipality" and member.lat is not None and member.lon is not None
    ]
    if member_distances:
        return Circle(lat, lon, max(member_distances) + MUNICIPALITY_RADIUS_KM)
    if region.centroid_is_approximate:
        return Circle(lat, lon, COUNTRY_RADIUS_KM)
    return Circle(lat, lon, _DEFAULT_RADIUS_KM[region.kind])


def circle_meets_region(lat: float, lon: float, radius_km: float, code: str) -> bool:
    """Whether a circle reaches the region (approximated as a circle, see the module notes)."""
    circle = validate((lat, lon, radius_km))
    region = region_circle(code)
    return region is not None and circles_meet(circle, region)
