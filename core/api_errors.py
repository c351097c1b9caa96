"""JSON errors for every URL under /api/, including the ones no view was found for.

Each API blueprint answers its own errors as JSON, but a URL that matches no route (an id
that is not a number, a misspelt path) or a method a route does not take fails before any
blueprint is chosen, and Flask would answer with an HTML page. A client of the API reads
JSON, and the OpenAPI document promises it.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/"


def install(app: Flask) -> None:
    app.register_error_handler(HTTPException, _api_error)


def _api_error(error: HTTPException) -> HTTPException | Response:
    if not request.path.startswith(API_PREFIX) or error.code is None:
        return error  # what Flask does without this handler
    response = jsonify(error=error.description)
    response.status_code = error.code
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # Allow (405), WWW-Authenticate (401) and the like
            response.headers[name] = value
    return response
