"""The URL converters every blueprint uses.

Row ids are 32-bit integers on PostgreSQL (and 64-bit on SQLite). A bigger id in a URL made
the database driver raise, so /alerts/9223372036854775808 answered 500 instead of 404.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ROW_ID = 2**31 - 1
NO_ROW = 0  # ids start at 1


class RowIdConverter(IntegerConverter):
    """`<int:...>` that reads a number too big for a row id as 0, an id no row has.

    The view then answers its own 404. Refusing the number here instead (a ValidationError)
    would make werkzeug answer 405 for a route's other methods.
    """

    def to_python(self, value: str) -> int:
        number: int = super().to_python(value)
        return number if number <= MAX_ROW_ID else NO_ROW


def install(app: Flask) -> None:
    """Before any blueprint is registered: rules take their converters when they are added."""
    app.url_map.converters["int"] = RowIdConverter
