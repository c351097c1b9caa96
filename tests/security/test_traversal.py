"""Path traversal: no name or path given to the routes that serve files reaches a file outside
UPLOAD_DIR (photos) or static/ (scripts, styles); an uploaded file's own name is never used.

Canary files lie beside UPLOAD_DIR and inside it under names we never produce; no answer may
carry their contents.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask

from tests.feeds.made_alerts import jpeg

from .site import World

CANARY = b"CANARY-7f3a-do-not-serve"
ATTACKS = [
    "../canary.jpg",
    "..%2fcanary.jpg",
    "..%2Fcanary.jpg",
    "%2e%2e%2fcanary.jpg",
    "%2e%2e/canary.jpg",
    "%252e%252e%252fcanary.jpg",
    "..%5ccanary.jpg",
    "..\\canary.jpg",
    "....//canary.jpg",
    "..;/canary.jpg",
    "%c0%ae%c0%ae/canary.jpg",
    "\uff0e\uff0e/canary.jpg",
    "/{outside}/canary.jpg",
    "{outside}/canary.jpg",
    "canary.jpg%00.jpg",
    "canary.jpg\x00",
    "%00../canary.jpg",
    "{hex}.jpg/../../canary.jpg",
    "{hex}.jpg%2f..%2f..%2fcanary.jpg",
    "{hex}.jpg%00",
    ".{hex}.tmp",
    "inside.txt",
    "INSIDE.TXT",
    "{hex}-t.jpg/",
    "{hex}.JPG",
]


@pytest.fixture
def canaries(app: Flask) -> Path:
    """Canary files beside UPLOAD_DIR and in it under names store_photo never makes."""
    uploads = Path(app.config["UPLOAD_DIR"])
    uploads.mkdir(parents=True, exist_ok=True)
    outside = uploads.parent
    for path in (
        outside / "canary.jpg",
        outside / "canary.jpg.jpg",
        uploads / "inside.txt",
        uploads / f".{'a' * 32}.tmp",
    ):
        path.write_bytes(CANARY)
    return outside


def _expand(template: str, outside: Path) -> str:
    return template.replace("{outside}", str(outside).lstrip("/")).replace("{hex}", "a" * 32)


def test_photo_names_never_leave_the_upload_directory(app: Flask, canaries: Path, world: World) -> None:
    client = app.test_client()
    real = world.published.latest.photos[0].file_name
    served = client.get(f"/photos/{real}")
    assert served.status_code == 200  # the control: a stored photo is served
    served.close()
    for template in ATTACKS:
        for prefix in ("/photos/", "/photos//", "/photos/x/../"):
            path = prefix + _expand(template, canaries)
            response = client.get(path)
            body = response.get_data()
            response.close()
            assert response.status_code in (308, 400, 404), (path, response.status_code)
            assert CANARY not in body, path
            if response.status_code == 308:  # Werkzeug tidies "//" and "x/../": follow it once
                followed = client.get(response.headers["Location"])
                assert CANARY not in followed.get_data() and followed.status_code in (400, 404), path
                followed.close()


def test_static_paths_never_leave_the_static_folder(app: Flask, canaries: Path) -> None:
    client = app.test_client()
    secrets_beside = ["../app.py", "../config.example.toml", "..%2fapp.py", "css/..%5c..%5capp.py", "../../canary.jpg"]
    for name in secrets_beside + [_expand(t, canaries) for t in ATTACKS]:
        response = client.get("/static/" + name)
        body = response.get_data()
        response.close()
        assert response.status_code in (308, 400, 404), (name, response.status_code)
        assert CANARY not in body and b"create_app" not in body and b"SECRET_KEY" not in body, name


def test_an_uploads_own_file_name_is_never_used(app: Flask, world: World, canaries: Path) -> None:
    chief = world.chief()
    before = sorted(p for p in canaries.rglob("*"))
    for name in ("../../escaped.jpg", "/tmp/escaped.jpg", "..\\..\\escaped.jpg", "escaped.jpg\x00.png"):
        response = chief.post(
            f"/editor/alerts/{world.draft.id}/photos", {"photo": (io.BytesIO(jpeg()), name), "alt_en": "pill"}
        )
        assert response.status_code == 303, name
    after = sorted(p for p in canaries.rglob("*"))
    new = [p for p in after if p not in before]
    assert len(new) == 8  # a photo and its thumbnail per upload, all in UPLOAD_DIR under random names
    assert all(p.parent == canaries / "photos" and "escaped" not in p.name for p in new)
    assert not list(Path("/tmp").glob("escaped*"))
