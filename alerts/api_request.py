"""Reading request bodies for the alerts API, with errors that say exactly what is wrong.

A lab system's developer sees these messages only in logs, so each names the problem: the
JSON syntax error and its position, the wrong content type, the unknown field.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any, NoReturn

from flask import current_app, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from .field_checks import unknown_fields
from .schema import ValidationError

# An alert's content is a few kilobytes; a megabyte leaves room and stops abuse early.
JSON_MAX_BYTES = 1024 * 1024
# Room for the multipart envelope and the alt texts around the photo itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# The top-level keys of schema.validate_content. validate_content ignores other keys, and in
# an API that would drop a misspelt field without a word (tests check this against content_of).


def json_body(required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object, or a 400/413/415 that names what is wrong with it.

    With required=False an empty body reads as {} (actions such as approve need none).
    """
    request.max_content_length = limit(JSON_MAX_BYTES)
    data = request.get_data()
    if not data.strip():
        if required:
            raise BadRequest("the body is empty; send a JSON object")
        return {}
    if not request.is_json:
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    try:
        # The app's JSON provider (core/security.py) also refuses NUL characters and long numbers.
        payload = current_app.json.loads(data, parse_constant=_no_constants)
    except json.JSONDecodeError as error:
        raise BadRequest(f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except UnicodeDecodeError:
        raise BadRequest("malformed JSON: the body is not UTF-8 text") from None
    except ValueError as error:  # nested too deeply, a number too long, a NUL character
        raise BadRequest(f"malformed JSON: {error}") from None
    if not isinstance(payload, dict):
        raise BadRequest(f"the body must be a JSON object, not {_json_kind(payload)}")
    return payload


def only(body: dict[str, Any], allowed: Collection[str]) -> None:
    """Refuse keys outside `allowed` as a 422 naming each of them."""
    unknown = unknown_fields(body, allowed)
    if unknown:
        raise ValidationError(unknown)


def text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({key: "must be text"})
    return value


def limit(wanted: int) -> int:
    """A body limit for one endpoint, never above the operator's MAX_CONTENT_LENGTH."""
    configured: int | None = current_app.config["MAX_CONTENT_LENGTH"]
    return wanted if configured is None else min(wanted, configured)


def _no_constants(name: str) -> NoReturn:
    # Python's json accepts NaN and Infinity; JSON does not, and neither do we.
    raise BadRequest(f"malformed JSON: {name} is not a JSON number")


def _json_kind(value: object) -> str:
    kinds = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
    return kinds.get(type(value), "a number")
