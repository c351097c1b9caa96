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


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(error: HTTPException) -> Response:
    """The API's error shape, {"error": description}, with the error's status and headers."""
    response = jsonify(error=error.description)
    response.status_code = error.code or 500
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # Allow (405), WWW-Authenticate (401) and the like
            response.headers[name] = value
    return response


def _api_error(error: HTTPException) -> HTTPException | Response:
    if not is_api_request() or error.code is None:
        return error  # what Flask does without this handler
    return json_error(error)
