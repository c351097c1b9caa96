"""The URL converters every blueprint uses, and finding the page a request belongs to.

Row ids are 32-bit integers on PostgreSQL (and 64-bit on SQLite). A bigger id in a URL made
the database driver raise, so /alerts/9223372036854775808 answered 500 instead of 404.
"""

from __future__ import annotations

from flask import Flask, current_app, request, url_for
from werkzeug.exceptions import HTTPException
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


def nearest_page() -> str:
    """A link on this site to the page a request came from: its path itself when it is a page
    (GET), else the nearest page above it (/manage/<token>/pause → /manage/<token>), else the
    home page. For pages that answer a POST: a refused form's way back, the language switch.

    Made only from the request's path and this app's own routes, rebuilt with url_for: never
    from the Referer, which the client (or a page that linked here) chooses, so the link can
    never lead to another site. The query string is dropped with it (it may carry a ?next=).
    """
    adapter = current_app.create_url_adapter(request)
    if adapter is not None:
        segments = request.path.rstrip("/").split("/")
        while len(segments) > 1:
            above = "/".join(segments)
            for path in (above, above + "/"):  # "/editor" is the page "/editor/"
                try:
                    endpoint, values = adapter.match(path, method="GET")
                except HTTPException:  # no such page, POST only, or a redirect ("//" merged)
                    continue
                return url_for(endpoint, **values)
            segments.pop()
    return url_for("public.index")
