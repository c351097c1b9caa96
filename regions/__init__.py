"""Region tree: countries, subdivisions and Dutch municipalities (filled by the subscribers work)."""
