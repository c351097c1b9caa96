"""Finding regions by the names people actually write."""

from __future__ import annotations

import pytest

from regions import tree
from regions.names import ALIASES, fold


def codes(found: list[tree.Region]) -> list[str]:
    return [region.code for region in found]


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Den Haag", "GM0518"),
        ("den haag", "GM0518"),
        ("'s-Gravenhage", "GM0518"),
        ("s Gravenhage", "GM0518"),
        ("Friesland", "NL-FR"),
        ("Fryslân", "NL-FR"),
        ("FRYSLAN", "NL-FR"),
        ("Nuenen c.a.", "GM0820"),
        ("Nuenen ca", "GM0820"),
        ("Nuenen, Gerwen en Nederwetten", "GM0820"),
        ("Bergen (NH.)", "GM0373"),
        ("Bergen NH", "GM0373"),
        ("Bergen (N.H.)", "GM0373"),
        ("De Friese Meren", "GM1940"),
        ("De Fryske Marren", "GM1940"),
        ("Tietjerksteradeel", "GM0737"),
        ("Tytsjerksteradiel", "GM0737"),
        ("Dantumadeel", "GM1891"),
        ("Dantumadiel", "GM1891"),
        ("Den Bosch", "GM0796"),
        ("Súdwest-Fryslân", "GM1900"),
        ("Sudwest Fryslan", "GM1900"),
        ("Noord Holland", "NL-NH"),
        ("Hengelo", "GM0164"),
    ],
)
def test_names_and_aliases(written: str, code: str) -> None:
    assert codes(tree.search(written)) == [code]


def test_every_alias_points_at_a_known_region() -> None:
    for alias, code in ALIASES.items():
        assert tree.is_known(code), alias
        assert code in codes(tree.search(alias))


def test_bare_homonym_finds_every_region_of_that_name() -> None:
    assert sorted(codes(tree.search("Bergen"))) == ["GM0373", "GM0893"]


def test_broad_regions_first_and_country_narrows() -> None:
    assert codes(tree.search("Utrecht")) == ["NL-UT", "GM0344"]
    limburg = codes(tree.search("Limburg"))
    assert "NL-LI" in limburg and "BE-VLI" in limburg
    assert codes(tree.search("Limburg", country="nl")) == ["NL-LI"]


def test_countries_by_iso_and_common_names() -> None:
    assert codes(tree.search("Netherlands")) == ["NL"]
    assert codes(tree.search("Bolivia")) == ["BO"]
    assert codes(tree.search("Bolivia, Plurinational State of")) == ["BO"]


def test_no_match_and_blank_input() -> None:
    assert tree.search("Atlantis") == []
    assert tree.search("") == []
    assert tree.search("  ()  ") == []


def test_suggest_ranks_exact_then_prefix_then_word() -> None:
    found = codes(tree.suggest("amst", country="NL"))
    assert found[:2] == ["GM0362", "GM0363"]  # Amstelveen, Amsterdam (prefix)
    assert "GM0437" in found  # Ouder-Amstel (a later word)
    assert found.index("GM0437") > found.index("GM0363")
    assert codes(tree.suggest("groningen"))[:2] == ["NL-GR", "GM0014"]
    assert len(tree.suggest("a", limit=5)) == 5
    assert tree.suggest("") == []


def test_fold() -> None:
    assert fold("  'S-Gravenhage ") == "s gravenhage"
    assert fold("Nuenen c.a.") == "nuenen ca"
    assert fold("Fryslân") == "fryslan"
    assert fold("Bergen (NH.)") == "bergen nh"
    assert fold("Straße") == "strasse"
