"""Distances and circles."""

from __future__ import annotations

import math

import pytest

from regions import geo, tree
from regions.geo import Circle

DAM = (52.3731, 4.8926)  # Amsterdam, Dam square
ROTTERDAM_CS = (51.9244, 4.4690)  # Rotterdam Centraal
MAASTRICHT = (50.8514, 5.6910)


def test_known_distances() -> None:
    amsterdam, rotterdam = tree.get("GM0363"), tree.get("GM0599")
    assert amsterdam and rotterdam and amsterdam.lat and amsterdam.lon and rotterdam.lat and rotterdam.lon
    assert geo.haversine_km(amsterdam.lat, amsterdam.lon, rotterdam.lat, rotterdam.lon) == pytest.approx(57, abs=1)
    assert geo.haversine_km(*DAM, *ROTTERDAM_CS) == pytest.approx(57, abs=1)
    # London to Paris, city centres.
    assert geo.haversine_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(344, abs=1)


def test_distance_edge_cases() -> None:
    assert geo.haversine_km(*DAM, *DAM) == 0
    assert geo.haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * geo.EARTH_RADIUS_KM)
    assert geo.haversine_km(10, 179.9, 10, -179.9) == pytest.approx(21.9, abs=0.1)
    assert geo.haversine_km(*DAM, *ROTTERDAM_CS) == geo.haversine_km(*ROTTERDAM_CS, *DAM)


def test_circles_meet_when_they_overlap_or_touch() -> None:
    gap = geo.haversine_km(*DAM, *ROTTERDAM_CS)
    assert geo.circles_meet(Circle(*DAM, 30), Circle(*ROTTERDAM_CS, 30))
    assert geo.circles_meet((*DAM, gap / 2), (*ROTTERDAM_CS, gap / 2 + 1e-9))
    assert not geo.circles_meet((*DAM, 20), (*ROTTERDAM_CS, 20))
    assert geo.circles_meet((*DAM, 0), (*DAM, 0))


def test_circle_meets_region() -> None:
    assert geo.circle_meets_region(*DAM, 1, "GM0363")
    assert geo.circle_meets_region(*DAM, 1, "nl-nh")
    assert geo.circle_meets_region(*DAM, 1, "NL")
    assert not geo.circle_meets_region(*MAASTRICHT, 5, "GM0363")
    assert geo.circle_meets_region(*MAASTRICHT, 5, "NL-LI")
    assert not geo.circle_meets_region(*DAM, 1, "NL-LI")
    # Rotterdam's circle (8 km) is 57 km from the Dam: a 45 km circle does not reach it...
    assert not geo.circle_meets_region(*DAM, 45, "GM0599")
    # ...a 52 km one does.
    assert geo.circle_meets_region(*DAM, 52, "GM0599")


def test_province_and_country_circles_cover_their_municipalities() -> None:
    for code in ["NL", *tree.children("NL")]:
        outer = geo.region_circle(code)
        assert outer is not None
        for municipality in tree.descendants(code):
            if not municipality.startswith("GM"):
                continue
            inner = geo.region_circle(municipality)
            assert inner is not None
            gap = geo.haversine_km(outer.lat, outer.lon, inner.lat, inner.lon)
            assert gap + inner.radius_km <= outer.radius_km + 1e-9


def test_default_radii() -> None:
    assert geo.region_circle("GM0363") == Circle(52.3638, 4.9104, geo.MUNICIPALITY_RADIUS_KM)
    belgium = geo.region_circle("BE")
    assert belgium is not None and belgium.radius_km == geo.COUNTRY_RADIUS_KM
    # A subdivision without a point of its own stands in with its country's circle.
    assert geo.region_circle("BE-VAN") == belgium


def test_regions_without_a_point_meet_no_circle() -> None:
    assert geo.region_circle("CW") is None
    assert not geo.circle_meets_region(12.17, -68.99, 50, "CW")


def test_bad_input() -> None:
    with pytest.raises(KeyError):
        geo.circle_meets_region(*DAM, 1, "GM9999")
    with pytest.raises(ValueError):
        geo.circle_meets_region(91, 0, 1, "NL")
    with pytest.raises(ValueError):
        geo.circle_meets_region(0, 181, 1, "NL")
    with pytest.raises(ValueError):
        geo.circle_meets_region(*DAM, -1, "NL")
    with pytest.raises(ValueError):
        geo.circles_meet((*DAM, math.nan), (*DAM, 1))
