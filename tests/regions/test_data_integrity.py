"""The shipped data files agree with each other, with pycountry and with regions/data/README.md."""

from __future__ import annotations

import csv
from collections import Counter

import pycountry

from regions import tree
from regions.sources import COUNTRY_CENTROIDS_CSV, MUNICIPALITIES_CSV, NL_EXCLUDED, load_regions

# From regions/data/README.md (CBS division of 1 January 2025).
PROVINCE_COUNTS = {
    "NL-NB": 56,
    "NL-GE": 51,
    "NL-ZH": 50,
    "NL-NH": 44,
    "NL-LI": 31,
    "NL-UT": 26,
    "NL-OV": 25,
    "NL-FR": 18,
    "NL-ZE": 13,
    "NL-DR": 12,
    "NL-GR": 10,
    "NL-FL": 6,
}

# The European Netherlands, with a little margin (Cadzand to Bad Nieuweschans, Eijsden to
# Rottumeroog).
NL_LAT = (50.7, 53.7)
NL_LON = (3.3, 7.3)


def _municipality_rows() -> list[dict[str, str]]:
    with MUNICIPALITIES_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_municipality_file_has_342_unique_codes() -> None:
    rows = _municipality_rows()
    codes = [row["code"] for row in rows]
    assert len(rows) == 342
    assert len(set(codes)) == 342
    assert all(code.startswith("GM") and len(code) == 6 and code[2:].isdigit() for code in codes)
    assert len({row["name"] for row in rows}) == 342


def test_province_counts_match_the_readme() -> None:
    counts = Counter(row["province_iso"] for row in _municipality_rows())
    assert counts == PROVINCE_COUNTS


def test_every_municipality_has_a_dutch_province_in_the_tree() -> None:
    for row in _municipality_rows():
        province = tree.get(row["province_iso"])
        assert province is not None, row
        assert province.kind == "subdivision"
        assert province.parent == "NL"
        assert province.name == row["province_name"]
        municipality = tree.get(row["code"])
        assert municipality is not None
        assert municipality.parent == province.code
        assert municipality.name == row["name"]


def test_the_tree_holds_exactly_these_municipalities_and_provinces() -> None:
    assert sorted(tree.children("NL")) == sorted(PROVINCE_COUNTS)
    for province, count in PROVINCE_COUNTS.items():
        kids = tree.children(province)
        assert len(kids) == count
        assert {region.kind for region in map(tree.get, kids) if region} == {"municipality"}
    assert len(tree.descendants("NL")) == 12 + 342


def test_codes_are_unique_across_the_whole_tree() -> None:
    codes = [region.code for region in load_regions()]
    assert len(codes) == len(set(codes))
    assert len(codes) == len(pycountry.countries) + len(pycountry.subdivisions) - len(NL_EXCLUDED) + 342


def test_every_parent_exists_and_every_chain_ends_in_a_country() -> None:
    for region in load_regions():
        if region.kind == "country":
            assert region.parent is None
            continue
        assert region.parent is not None and tree.is_known(region.parent)
        line = tree.ancestors(region.code)
        top = tree.get(line[-1])
        assert top is not None and top.kind == "country"
        assert top.code == region.country


def test_dutch_points_lie_in_the_netherlands() -> None:
    for code in ["NL", *tree.descendants("NL")]:
        region = tree.get(code)
        assert region is not None and region.lat is not None and region.lon is not None
        assert NL_LAT[0] <= region.lat <= NL_LAT[1], region
        assert NL_LON[0] <= region.lon <= NL_LON[1], region
        assert not region.centroid_is_approximate


def test_country_centroid_rows_are_known_codes_on_the_globe() -> None:
    known = {country.alpha_2 for country in pycountry.countries}
    with COUNTRY_CENTROIDS_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 245
    codes = [row["country"] for row in rows]
    assert len(codes) == len(set(codes))
    # Documented in regions/data/README.md: skipped by the loader.
    assert set(codes) - known == {"AN", "GZ", "XK"}
    assert known - set(codes) == {"AX", "BL", "BQ", "CW", "MF", "SS", "SX"}
    for row in rows:
        if row["country"] == "UM":
            assert row["latitude"] == row["longitude"] == ""
            continue
        assert -90 <= float(row["latitude"]) <= 90
        assert -180 <= float(row["longitude"]) <= 180
