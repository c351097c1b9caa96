"""Response headers that every page carries, and input that no request may carry."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

# No inline script or style anywhere: every script and stylesheet is a file under /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The one page other sites may frame: the iframe variant of the alert widget (feeds/embed_views.py).
FRAMABLE_PATHS = frozenset({"/embed"})
CSP_FRAMABLE = CSP.replace("frame-ancestors 'none'", "frame-ancestors *")
FORM_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def install_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        framable = request.path in FRAMABLE_PATHS
        response.headers.setdefault("Content-Security-Policy", CSP_FRAMABLE if framable else CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not framable:
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        _keep_redirects_on_site(response)
        return response


def _keep_redirects_on_site(response: Response) -> None:
    """A redirect to "this host" as a path: Werkzeug's own ones ("/editor" to "/editor/") name
    the host from the request's Host header, which the client chooses (and a cache may keep)."""
    location = response.headers.get("Location")
    if location is None:
        return
    parts = urlsplit(location)
    if parts.netloc and parts.netloc == request.host:
        response.headers["Location"] = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing as malformed what would otherwise crash a view further on.

    json.loads raises RecursionError past about a thousand levels (a 2 KB body) and a bare
    ValueError for a number of over 4,300 digits; request.get_json (and Flask-WTF forms posted
    as JSON) count neither as bad input: a 500. And PostgreSQL cannot store a NUL character,
    which a \u0000 escape puts in a string. Each becomes a ValueError with a plain message:
    a 400 from get_json, None from get_json(silent=True).
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None
        except ValueError:
            raise ValueError("a number in the JSON is too long") from None
        if _holds_nul(value):
            raise ValueError("NUL characters are not allowed in any field")
        return value


def _holds_nul(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def install_input_guards(app: Flask) -> None:
    """What no request may carry, whichever view it is for: refused before any view runs."""
    app.json = BoundedJSONProvider(app)

    @app.before_request
    def _refuse_input_no_view_takes() -> None:
        # Werkzeug enforces MAX_CONTENT_LENGTH only when a view reads the body; a view that
        # reads none would otherwise act on a request of any size.
        limit = app.config["MAX_CONTENT_LENGTH"]
        if limit is not None and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()
        # Pages take HTML forms; only the API takes JSON. Flask-WTF would read a JSON body as the
        # form's fields and fail with a 500 on anything but an object ([1, 2] or "text").
        if request.is_json and request.method in FORM_METHODS and not request.path.startswith("/api/"):
            raise UnsupportedMediaType("Send this form as a form (application/x-www-form-urlencoded), not as JSON.")
        if _carries_nul():
            raise BadRequest("NUL characters are not allowed in any field.")


def _carries_nul() -> bool:
    """Whether the query or a form field holds a NUL character (JSON: BoundedJSONProvider).

    No text here may contain one, and PostgreSQL cannot store one: a note, a search or an email
    address with a NUL was a 500 there (and fine on SQLite). Uploaded files are not fields;
    path segments reach no query as text (ids are numbers, links are checked by signature,
    photo names by pattern), so a NUL there is simply not found.
    """
    fields = [*request.args.items(multi=True)]
    if request.mimetype == "application/x-www-form-urlencoded":
        request.get_data(cache=True)  # kept for a view that reads the raw body (and says it is no JSON)
        fields += request.form.items(multi=True)
    elif request.mimetype == "multipart/form-data" and not request.path.startswith("/api/"):
        # Pages' forms are parsed before any view anyway (the CSRF check); the API's photo
        # upload is not, so that its view can first lower the body limit to the photo size.
        fields += request.form.items(multi=True)
    return any("\x00" in key or "\x00" in value for key, value in fields)
