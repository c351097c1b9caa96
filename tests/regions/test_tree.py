"""Lookups and walks over the region tree."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import pycountry
import pytest

from regions import tree
from regions.tree import Region


def region(code: str) -> Region:
    found = tree.get(code)
    assert found is not None, code
    return found


def test_get_normalises_case_and_whitespace() -> None:
    assert region("gm0363") == region("GM0363")
    assert region(" nl-nh ").code == "NL-NH"
    assert region("nl").code == "NL"
    assert tree.get("XX") is None
    assert tree.get("") is None


def test_amsterdam() -> None:
    amsterdam = region("GM0363")
    assert (amsterdam.name, amsterdam.kind, amsterdam.parent, amsterdam.country) == (
        "Amsterdam",
        "municipality",
        "NL-NH",
        "NL",
    )
    assert amsterdam.lat == pytest.approx(52.3638)
    assert amsterdam.lon == pytest.approx(4.9104)


def test_is_known() -> None:
    assert tree.is_known("GM0363")
    assert tree.is_known("gm0363")
    assert tree.is_known("NL-NH")
    assert tree.is_known("BE-VAN")
    assert not tree.is_known("GM9999")
    assert not tree.is_known("nonsense")


def test_caribbean_parts_of_the_kingdom_are_countries_not_dutch_provinces() -> None:
    for code in ["NL-AW", "NL-CW", "NL-SX", "NL-BQ1", "NL-BQ2", "NL-BQ3"]:
        assert not tree.is_known(code)
    for code in ["AW", "CW", "SX", "BQ"]:
        assert region(code).kind == "country"
    assert sorted(tree.children("BQ")) == ["BQ-BO", "BQ-SA", "BQ-SE"]
    assert not tree.contains("NL", "BQ-BO")


def test_ancestors_nearest_first_ending_with_the_country() -> None:
    assert tree.ancestors("GM0363") == ["NL-NH", "NL"]
    assert tree.ancestors("gm0363") == ["NL-NH", "NL"]
    assert tree.ancestors("NL-NH") == ["NL"]
    assert tree.ancestors("NL") == []
    with pytest.raises(KeyError):
        tree.ancestors("GM9999")


def test_pycountry_nesting_is_kept() -> None:
    nested = [sub for sub in pycountry.subdivisions if sub.parent_code]
    assert nested, "pycountry stopped nesting subdivisions"
    for sub in nested:
        line = tree.ancestors(sub.code)
        assert line[0] == sub.parent_code
        assert line[-1] == sub.country_code
    # Belgium: provinces under their region.
    assert tree.ancestors("BE-VAN") == ["BE-VLG", "BE"]
    assert "BE-VAN" in tree.children("BE-VLG")
    assert "BE-VAN" not in tree.children("BE")


def test_children_and_descendants() -> None:
    provinces = tree.children("NL")
    assert len(provinces) == 12
    assert [region(code).name for code in provinces] == sorted(
        (region(code).name for code in provinces), key=str.casefold
    )
    assert tree.children("GM0363") == []
    below_nh = tree.descendants("NL-NH")
    assert len(below_nh) == 44
    assert "GM0363" in below_nh
    below_nl = tree.descendants("nl")
    assert len(below_nl) == 12 + 342
    # Each parent comes before its children.
    seen = {"NL"}
    for code in below_nl:
        assert region(code).parent in seen
        seen.add(code)
    with pytest.raises(KeyError):
        tree.descendants("XX")


def test_contains_is_reflexive_and_follows_the_tree() -> None:
    assert tree.contains("NL", "GM0363")
    assert tree.contains("NL-NH", "GM0363")
    assert tree.contains("nl-nh", "gm0363")
    assert tree.contains("GM0363", "GM0363")
    assert tree.contains("NL", "NL")
    assert not tree.contains("GM0363", "NL-NH")
    assert not tree.contains("NL-ZH", "GM0363")
    assert not tree.contains("BE", "GM0363")
    assert not tree.contains("XX", "XX")
    assert not tree.contains("NL", "GM9999")


def test_closure_pairs_match_ancestors() -> None:
    pairs = list(tree.closure_pairs())
    assert len(pairs) == len(set(pairs))
    closure: dict[str, set[str]] = defaultdict(set)
    for code, ancestor in pairs:
        closure[code].add(ancestor)
    every_code = set()
    for country in tree.countries():
        every_code |= {country.code, *tree.descendants(country.code)}
    assert set(closure) == every_code
    for code in every_code:
        assert closure[code] == {code, *tree.ancestors(code)}
    assert closure["GM0363"] == {"GM0363", "NL-NH", "NL"}


def test_countries_are_every_iso_country_by_name() -> None:
    countries = tree.countries()
    assert len(countries) == len(pycountry.countries)
    names = [country.name for country in countries]
    assert "Netherlands" in names
    assert "Bolivia" in names  # ISO's common name, not "Bolivia, Plurinational State of"


def test_centroids() -> None:
    # Dutch provinces: a municipality point of their own.
    for province in tree.children("NL"):
        points = {(region(m).lat, region(m).lon) for m in tree.children(province)}
        assert (region(province).lat, region(province).lon) in points
    # Other subdivisions borrow the country's point, and say so.
    flemish_brabant, belgium = region("BE-VBR"), region("BE")
    assert flemish_brabant.centroid_is_approximate
    assert (flemish_brabant.lat, flemish_brabant.lon) == (belgium.lat, belgium.lon)
    assert not belgium.centroid_is_approximate
    # Codes newer than the centroid list have no point.
    curacao = region("CW")
    assert curacao.lat is None and curacao.lon is None
    assert not curacao.centroid_is_approximate


def test_regions_are_immutable() -> None:
    amsterdam = region("GM0363")
    with pytest.raises(dataclasses.FrozenInstanceError):
        amsterdam.name = "Mokum"  # type: ignore[misc]
    assert region("GM0363").name == "Amsterdam"
    # Callers get copies of lists, never the tree's own.
    tree.children("NL").clear()
    tree.ancestors("GM0363").clear()
    assert len(tree.children("NL")) == 12
    assert tree.ancestors("GM0363") == ["NL-NH", "NL"]
