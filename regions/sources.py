"""Reading the region sources: pycountry (ISO 3166-1 and 3166-2) and the files in regions/data/.

Everything is read from the repository itself, never from outside it, so a deployment and the
tests see exactly the data that was reviewed and committed.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pycountry

DATA_DIR = Path(__file__).parent / "data"
MUNICIPALITIES_CSV = DATA_DIR / "nl-municipalities.csv"
COUNTRY_CENTROIDS_CSV = DATA_DIR / "country-centroids.csv"

Kind = Literal["country", "subdivision", "municipality"]

# pycountry files six codes under NL that are not provinces of the European Netherlands:
# - NL-AW, NL-CW, NL-SX are the other countries of the Kingdom, and ISO 3166-1 gives them
#   their own country codes AW, CW and SX;
# - NL-BQ1..3 (Bonaire, Saba, Sint Eustatius) are special municipalities that ISO 3166-1 also
#   lists as the country BQ with subdivisions BQ-BO, BQ-SA, BQ-SE.
# Keeping them under NL would list each island twice and make an alert for "NL" (a drug
# market in the European Netherlands, where every CBS municipality lies) reach the Caribbean.
# So NL here means the 12 provinces; the islands are found under AW, CW, SX and BQ.
NL_EXCLUDED = frozenset({"NL-AW", "NL-CW", "NL-SX", "NL-BQ1", "NL-BQ2", "NL-BQ3"})


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    kind: Kind
    parent: str | None
    country: str
    lat: float | None = None
    lon: float | None = None
    # True when the point is the country's centroid standing in for a subdivision that has
    # no point of its own (every subdivision outside the Netherlands): usable only as "which
    # country", never for distances inside it.
    centroid_is_approximate: bool = False


def load_regions() -> list[Region]:
    """Countries, then subdivisions, then Dutch municipalities (parents before children)."""
    centroids = read_country_centroids()
    municipalities = read_municipalities()
    provinces = _representative_points(municipalities, key=lambda m: m.parent or "")
    netherlands = _representative_points(municipalities, key=lambda m: "NL")["NL"]

    regions: list[Region] = []
    for country in pycountry.countries:
        code = country.alpha_2
        lat, lon = netherlands if code == "NL" else centroids.get(code, (None, None))
        # common_name is ISO's short form where the official one reads badly in a picker
        # ("Bolivia" rather than "Bolivia, Plurinational State of").
        name = getattr(country, "common_name", None) or country.name
        regions.append(Region(code, name, "country", None, code, lat, lon))

    for sub in pycountry.subdivisions:
        if sub.code in NL_EXCLUDED:
            continue
        parent = sub.parent_code or sub.country_code
        if sub.code in provinces:
            lat, lon = provinces[sub.code]
            approximate = False
        else:
            lat, lon = centroids.get(sub.country_code, (None, None))
            approximate = lat is not None
        regions.append(Region(sub.code, sub.name, "subdivision", parent, sub.country_code, lat, lon, approximate))

    regions.extend(municipalities)
    return regions


def read_municipalities() -> list[Region]:
    with MUNICIPALITIES_CSV.open(encoding="utf-8", newline="") as handle:
        return [
            Region(
                code=row["code"],
                name=row["name"],
                kind="municipality",
                parent=row["province_iso"],
                country="NL",
                lat=float(row["lat"]),
                lon=float(row["lon"]),
            )
            for row in csv.DictReader(handle)
        ]


def read_country_centroids() -> dict[str, tuple[float, float]]:
    """ISO alpha-2 -> (lat, lon) from Google's DSPL list.

    The list predates a few codes and keeps a few retired ones; rows that pycountry does not
    know (AN, GZ, XK) and the row without coordinates (UM) are skipped.
    """
    known = {country.alpha_2 for country in pycountry.countries}
    points: dict[str, tuple[float, float]] = {}
    with COUNTRY_CENTROIDS_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["country"] in known and row["latitude"] and row["longitude"]:
                points[row["country"]] = (float(row["latitude"]), float(row["longitude"]))
    return points


def _representative_points(
    municipalities: Iterable[Region], key: Callable[[Region], str]
) -> dict[str, tuple[float, float]]:
    """Per group, the municipality point nearest to the plain mean of the group's points.

    The plain (unweighted) mean leans towards areas with many small municipalities and can
    fall outside an irregular province (in the Zeeland water, say); moving it to the nearest
    municipality point keeps it inside the region, because every CBS point lies inside its own
    municipality. Nearness uses a flat-earth metric scaled by cos(latitude): at the size of a
    province that ranks points the same as a great-circle distance would.
    """
    groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for municipality in municipalities:
        assert municipality.lat is not None and municipality.lon is not None
        groups[key(municipality)].append((municipality.lat, municipality.lon))

    chosen: dict[str, tuple[float, float]] = {}
    for group, points in groups.items():
        mean_lat = sum(lat for lat, _ in points) / len(points)
        mean_lon = sum(lon for _, lon in points) / len(points)
        scale = math.cos(math.radians(mean_lat))
        chosen[group] = min(points, key=lambda p: (p[0] - mean_lat) ** 2 + ((p[1] - mean_lon) * scale) ** 2)
    return chosen
