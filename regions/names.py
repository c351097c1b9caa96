"""Name matching for regions: folding and the aliases people use instead of official names.

Alerts and subscribers write "Den Haag", "friesland" or "Nuenen c.a."; CBS and ISO write
"'s-Gravenhage", "Fryslân" and "Nuenen, Gerwen en Nederwetten". Both sides are folded to the
same key, and the aliases below (listed in regions/data/README.md) point to the official code.
"""

from __future__ import annotations

import re
import unicodedata

# Alias -> region code. Only names that folding alone cannot reach; keep in step with the
# "Caveats (names)" section of regions/data/README.md.
ALIASES: dict[str, str] = {
    "Den Haag": "GM0518",  # 's-Gravenhage
    "The Hague": "GM0518",
    "Den Bosch": "GM0796",  # 's-Hertogenbosch
    "Friesland": "NL-FR",  # ISO: Fryslân
    "Nuenen c.a.": "GM0820",  # Nuenen, Gerwen en Nederwetten
    "Nuenen": "GM0820",
    "Dantumadeel": "GM1891",  # Dutch form of Dantumadiel
    "Tietjerksteradeel": "GM0737",  # Dutch form of Tytsjerksteradiel
    "De Friese Meren": "GM1940",  # Dutch form of De Fryske Marren
}

# CBS disambiguates homonyms with a bracketed province, e.g. "Bergen (NH.)"; people mostly
# leave it off, so the bare name is indexed too (and then matches every Bergen).
_BRACKET_SUFFIX = re.compile(r"\s*\([^)]*\)\s*$")
# Dots and apostrophes join rather than separate, so abbreviations match however they are
# dotted ("c.a." = "ca", "N.H." = "NH.").
_JOINERS = re.compile(r"[.'’]")
# Anything else that is not a letter or digit in any script separates words, so hyphens,
# brackets and commas ("Noord-Holland", "Bergen (NH.)") never decide a match.
_SEPARATORS = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """A matching key: accents dropped, case folded, punctuation reduced to single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    joined = _JOINERS.sub("", bare.casefold())
    return " ".join(word for word in _SEPARATORS.split(joined) if word)


def name_keys(name: str) -> set[str]:
    """Every folded key under which a region with this official name can be found."""
    keys = {fold(name)}
    without_suffix = _BRACKET_SUFFIX.sub("", name)
    if without_suffix and without_suffix != name:
        keys.add(fold(without_suffix))
    keys.discard("")
    return keys
