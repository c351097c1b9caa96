"""The answer to a form post the CSRF check refused: a page that says what happened.

Flask-WTF checks every form POST before any view runs (core/extensions.csrf) and, on its
own, answers Werkzeug's bare English "400 Bad Request". Real people meet it: a sign-up or
manage form left open past the token's hour, a browser that lost its session cookie, an
editor whose session ended. Nothing has changed at that point, and they should read that in
their own language, with a way back to the form.

Under /api the answer is the API's JSON error (core/api_errors). Every API route is exempt
from the check today, so only a new route that forgot its exemption gets here; its clients
still read JSON. A page's own script that asks for JSON gets the page's explanation as JSON.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import refresh
from flask_wtf.csrf import CSRFError

from .api_errors import is_api_request, json_error
from .routing import nearest_page


def install(app: Flask) -> None:
    # More specific than api_errors' HTTPException handler, so Flask picks this one first.
    app.register_error_handler(CSRFError, refused_form)


def refused_form(error: CSRFError) -> Response:
    if is_api_request():
        # Flask-WTF's reasons are fixed sentences ("The CSRF token is missing."), never a
        # token or session value, so they are safe to pass on.
        reason = f"The CSRF check refused this request and nothing was changed: {error.description}"
        response = json_error(CSRFError(reason))
    else:
        # The check runs before core/i18n's hook that drops a locale cached on `g`; an app
        # context shared by several requests would otherwise answer in an earlier one's language.
        refresh()
        if request.accept_mimetypes.best == "application/json":
            # A page's own script posting its form (the editor's test send to this browser)
            # shows `error` to the person as it is, like the view's own JSON answers.
            response = jsonify(error=explanation())
            response.status_code = error.code
        else:
            page = render_template("public/form_refused.html", explanation=explanation(), way_back=nearest_page())
            response = Response(page, status=error.code)
    # The link back can hold the visitor's own manage or confirmation token: keep it out of caches.
    response.headers["Cache-Control"] = "no-store"
    return response


def explanation() -> str:
    """What happened, in the visitor's language: the page's lead, and the JSON answer's error."""
    return _(
        "For your safety we only accept a form from a page of this site that was opened recently in "
        "this browser. This form was open too long, or we could not check that it came from here. "
        "Nothing was changed."
    )
