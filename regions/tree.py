"""The region tree: countries, their ISO 3166-2 subdivisions and Dutch municipalities.

Built once per process from pycountry and regions/data/ and never changed afterwards, so the
lookups below need no locking and can hand out the same objects to every caller. Codes are
case-insensitive on the way in ("nl-nh", "gm0363") and upper case on the way out.

Nesting: a country is the root; pycountry's nested subdivisions keep their parent (for
example a province under its region); a Dutch municipality's parent is its province.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pycountry

from .names import ALIASES, fold, name_keys
from .sources import Kind, Region, load_regions

__all__ = [
    "Kind",
    "Region",
    "ancestors",
    "children",
    "closure_pairs",
    "contains",
    "countries",
    "descendants",
    "get",
    "is_known",
    "search",
    "suggest",
]

# Search results list broad regions before narrow ones with the same name ("Utrecht" the
# province before Utrecht the municipality).
_KIND_ORDER: dict[str, int] = {"country": 0, "subdivision": 1, "municipality": 2}


@dataclass(frozen=True, slots=True)
class _Tree:
    regions: Mapping[str, Region]
    children: Mapping[str, tuple[str, ...]]
    # Ancestors, nearest first; precomputed because matching asks for them constantly.
    lineage: Mapping[str, tuple[str, ...]]
    countries: tuple[str, ...]


@functools.cache
def _tree() -> _Tree:
    loaded = load_regions()
    regions = {region.code: region for region in loaded}
    if len(regions) != len(loaded):
        # A CBS or ISO code reused elsewhere would silently replace a region; refuse to start.
        raise ValueError("duplicate region codes in the region sources")
    kids: dict[str, list[str]] = defaultdict(list)
    for region in regions.values():
        if region.parent is not None:
            kids[region.parent].append(region.code)

    def by_name(code: str) -> tuple[str, str]:
        return (fold(regions[code].name), code)

    lineage: dict[str, tuple[str, ...]] = {}
    for code, region in regions.items():
        line: list[str] = []
        parent = region.parent
        while parent is not None:
            line.append(parent)
            parent = regions[parent].parent
        lineage[code] = tuple(line)

    return _Tree(
        regions=MappingProxyType(regions),
        children=MappingProxyType({code: tuple(sorted(k, key=by_name)) for code, k in kids.items()}),
        lineage=MappingProxyType(lineage),
        countries=tuple(sorted((c for c, r in regions.items() if r.kind == "country"), key=by_name)),
    )


def normalise(code: str) -> str:
    return code.strip().upper()


def get(code: str) -> Region | None:
    return _tree().regions.get(normalise(code))


def is_known(code: str) -> bool:
    return normalise(code) in _tree().regions


def _known(code: str) -> str:
    normal = normalise(code)
    if normal not in _tree().regions:
        raise KeyError(f"unknown region {code!r}")
    return normal


def countries() -> list[Region]:
    """Every ISO 3166-1 country, by name."""
    tree = _tree()
    return [tree.regions[code] for code in tree.countries]


def ancestors(code: str) -> list[str]:
    """Parent, grandparent, ... ending with the country; [] for a country. KeyError if unknown."""
    return list(_tree().lineage[_known(code)])


def children(code: str) -> list[str]:
    """Direct children, by name. KeyError if unknown."""
    return list(_tree().children.get(_known(code), ()))


def descendants(code: str) -> list[str]:
    """Every region below this one, depth first, each parent before its children."""
    tree = _tree()
    found: list[str] = []
    stack = list(reversed(tree.children.get(_known(code), ())))
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(reversed(tree.children.get(current, ())))
    return found


def contains(outer: str, inner: str) -> bool:
    """Whether inner is outer or lies below it. Reflexive; False when either is unknown."""
    tree = _tree()
    outer, inner = normalise(outer), normalise(inner)
    if outer not in tree.regions or inner not in tree.regions:
        return False
    return outer == inner or outer in tree.lineage[inner]


def closure_pairs() -> Iterator[tuple[str, str]]:
    """(code, ancestor_or_self) for every region: the rows of a transitive-closure table.

    With that table in SQL, "does region X cover subscriber region Y" is one join instead of a
    recursive query. Generated from the precomputed lineage, so it costs one pass.
    """
    for code, line in _tree().lineage.items():
        yield code, code
        for ancestor in line:
            yield code, ancestor


@functools.cache
def _name_index() -> tuple[tuple[str, str], ...]:
    """(folded name, code) for official names, pycountry's other names and ALIASES.

    Separate from _tree() so that code which only walks the tree never pays for folding.
    """
    entries: set[tuple[str, str]] = set()
    for code, region in _tree().regions.items():
        names = [region.name]
        country = pycountry.countries.get(alpha_2=code) if region.kind == "country" else None
        if country is not None:
            names += [country.name, getattr(country, "official_name", None) or ""]
        for name in names:
            entries.update((key, code) for key in name_keys(name))
    for alias, code in ALIASES.items():
        entries.add((fold(alias), code))
    return tuple(sorted(entries))


def _ordered(ranked: dict[str, int], country: str | None, limit: int | None) -> list[Region]:
    regions = _tree().regions
    wanted = normalise(country) if country else None
    hits = [
        (rank, _KIND_ORDER[regions[code].kind], fold(regions[code].name), code)
        for code, rank in ranked.items()
        if wanted is None or regions[code].country == wanted
    ]
    hits.sort()
    return [regions[code] for *_, code in hits[:limit]]


def search(name: str, country: str | None = None) -> list[Region]:
    """Regions whose name or alias equals name, ignoring case, accents and punctuation.

    "Den Haag", "friesland", "Bergen (NH.)" and "Fryslan" all find their region; a bare
    homonym ("Bergen") finds every region of that name. country (ISO alpha-2) narrows it.
    """
    key = fold(name)
    if not key:
        return []
    return _ordered({code: 0 for folded, code in _name_index() if folded == key}, country, None)


def suggest(text: str, country: str | None = None, limit: int = 20) -> list[Region]:
    """For pickers: exact matches, then names starting with text, then a later word doing so."""
    key = fold(text)
    if not key:
        return []
    ranked: dict[str, int] = {}
    for folded, code in _name_index():
        if folded == key:
            rank = 0
        elif folded.startswith(key):
            rank = 1
        elif f" {key}" in f" {folded}":
            rank = 2
        else:
            continue
        ranked[code] = min(rank, ranked.get(code, rank))
    return _ordered(ranked, country, limit)
