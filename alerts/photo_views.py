"""Serving stored photos. Names are random and never reused, so a response never goes stale."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, send_from_directory

from .photos import photo_file_path

ONE_YEAR = 365 * 24 * 3600

bp = Blueprint("photos", __name__)


@bp.get("/photos/<name>")
def photo(name: str) -> Response:
    # The strict name check comes first; send_from_directory's safe_join is the second fence.
    path = photo_file_path(name)
    if path is None:
        abort(404)
    directory = current_app.config["UPLOAD_DIR"]
    response = send_from_directory(directory, path.name, mimetype="image/jpeg", max_age=ONE_YEAR)
    response.cache_control.public = True
    response.cache_control.immutable = True
    # Every stored file is a JPEG we encoded ourselves; browsers must not guess otherwise.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
