"""Which region codes an area reaches: the rule behind "one region contains the other".

Used by subscriber matching and by every public list filtered by region (feeds, the API), so
"the alerts for NL-NH" means the same everywhere: alerts for NL-NH itself, for any region in
it, and for any region it lies in (a national alert concerns Noord-Holland too).
"""

from __future__ import annotations

import functools

from . import geo, tree


@functools.cache
def _leaves() -> tuple[str, ...]:
    """The finest regions with a real centroid: today the Dutch municipalities.

    Elsewhere subdivisions only have their country's centroid, and a 300 km stand-in disc
    would let a circle in Amsterdam "meet" Antwerp. So outside the Netherlands a circle
    matches other circles only; subscribers there choose regions, which work everywhere.
    """
    leaves = []
    for country in tree.countries():
        for code in [country.code, *tree.descendants(country.code)]:
            region = tree.get(code)
            if region and not tree.children(code) and region.lat is not None and not region.centroid_is_approximate:
                leaves.append(code)
    return tuple(leaves)


@functools.lru_cache(maxsize=4096)
def circle_leaves(lat: float, lon: float, radius_km: float) -> frozenset[str]:
    """The finest regions whose disc the circle reaches: how a circle takes part in region matching."""
    return frozenset(code for code in _leaves() if geo.circle_meets_region(lat, lon, radius_km, code))


@functools.lru_cache(maxsize=1024)
def reach(codes: tuple[str, ...], circle: tuple[float, float, float] | None = None) -> frozenset[str]:
    """The codes themselves, their ancestors and descendants, and the leaves a circle meets."""
    base = set(codes)
    if circle is not None:
        base |= circle_leaves(*circle)
    reach: set[str] = set()
    for code in base:
        reach.add(code)
        reach.update(tree.ancestors(code))
        reach.update(tree.descendants(code))
    return frozenset(reach)
