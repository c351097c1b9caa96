"""Photo uploads: every image is built here with Pillow, so each test shows what it feeds in."""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from alerts.photos import PhotoError, StoredPhoto, delete_photo_files, photo_file_path, store_photo

SECRET = "SECRET-testing-site-Oudegracht-42"
RED = (255, 0, 0)
BLUE = (0, 0, 255)


def _save(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _noise(size: tuple[int, int]) -> Image.Image:
    # Random pixels barely compress, so a truncated file loses real image data.
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def _png_bomb(width: int, height: int) -> bytes:
    """A real bomb: a 1-bit PNG of zero rows, tiny on disk, huge once decoded."""
    row = bytes(1 + (width + 7) // 8)  # filter byte "none", then all-black pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _stored(name: str) -> Path:
    path = photo_file_path(name)
    assert path is not None and path.is_file()
    return path


def _open(name: str) -> Image.Image:
    with Image.open(_stored(name)) as image:
        image.load()
    return image


def _upload_dir_is_empty(app: Flask) -> bool:
    directory = Path(app.config["UPLOAD_DIR"])
    return not directory.exists() or not any(directory.iterdir())


def _assert_clean_jpeg(name: str) -> Image.Image:
    data = _stored(name).read_bytes()
    for marker in (b"Exif", b"GPS", b"xmpmeta", b"ICC_PROFILE", SECRET.encode()):
        assert marker not in data, marker
    image = _open(name)
    assert image.format == "JPEG" and image.mode == "RGB"
    assert not image.getexif()
    assert not {"exif", "xmp", "icc_profile", "comment"} & image.info.keys()
    return image


def test_jpeg_loses_exif_gps_xmp_and_icc_but_keeps_its_orientation(app: Flask) -> None:
    # Left half red, right half blue; orientation 6 means "turn 90° clockwise to display".
    image = Image.new("RGB", (400, 200), BLUE)
    image.paste(RED, (0, 0, 200, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 5.0, 30.0)
    gps[ExifTags.GPS.GPSMapDatum] = f"GPS {SECRET}"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = f"<x:xmpmeta xmlns:x='adobe:ns:meta/'>{SECRET}</x:xmpmeta>".encode()
    data = _save(image, "JPEG", exif=exif, icc_profile=icc, xmp=xmp)
    assert b"Exif" in data and SECRET.encode() in data  # the input really carries it all

    stored = store_photo(data)

    result = _assert_clean_jpeg(stored.file_name)
    assert result.size == (200, 400) == (stored.width, stored.height)
    # Turned clockwise, the left (red) half is now on top.
    top, bottom = result.getpixel((100, 20)), result.getpixel((100, 380))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60
    assert _assert_clean_jpeg(stored.thumb_name).size == (160, 320)


def test_png_text_chunks_are_dropped(app: Flask) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET)
    info.add_text("Location", SECRET, zip=True)
    info.add_itxt("Description", SECRET, lang="nl", tkey="Beschrijving")
    data = _save(_noise((120, 80)), "PNG", pnginfo=info)
    assert data.count(SECRET.encode()) == 2  # tEXt and iTXt; zTXt is compressed

    stored = store_photo(data)

    assert _assert_clean_jpeg(stored.file_name).size == (120, 80)
    _assert_clean_jpeg(stored.thumb_name)


def test_transparency_is_flattened_onto_white(app: Flask) -> None:
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (25, 25, 75, 75))

    stored = store_photo(_save(image, "PNG"))

    result = _assert_clean_jpeg(stored.file_name)
    corner, middle = result.getpixel((3, 3)), result.getpixel((50, 50))
    assert isinstance(corner, tuple) and isinstance(middle, tuple)
    assert min(corner) >= 245
    assert middle[0] > 200 and middle[1] < 60 and middle[2] < 60


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_large_photo_is_downscaled_with_a_thumbnail(app: Flask, fmt: str) -> None:
    stored = store_photo(_save(Image.new("RGB", (3000, 1500), (30, 120, 200)), fmt))

    assert (stored.width, stored.height) == (2000, 1000)
    assert _assert_clean_jpeg(stored.file_name).size == (2000, 1000)
    assert _assert_clean_jpeg(stored.thumb_name).size == (320, 160)
    assert stored.thumb_name == stored.file_name.removesuffix(".jpg") + "-t.jpg"


def test_edges_follow_the_configuration(app: Flask) -> None:
    # Eight times the edge: the JPEG is decoded at reduced scale, then turned upright.
    app.config.update(PHOTO_MAX_EDGE=300, PHOTO_THUMB_EDGE=50)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    stored = store_photo(_save(Image.new("RGB", (2400, 1200), RED), "JPEG", exif=exif))
    assert (stored.width, stored.height) == (150, 300)
    assert _open(stored.thumb_name).size == (25, 50)


def test_small_photo_is_not_enlarged(app: Flask) -> None:
    stored = store_photo(_save(Image.new("RGB", (90, 60), RED), "WEBP"))
    assert (stored.width, stored.height) == (90, 60)
    assert _open(stored.thumb_name).size == (90, 60)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16"])
def test_every_pixel_mode_becomes_rgb(app: Flask, mode: str) -> None:
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    stored = store_photo(_save(Image.new(mode, (40, 30)), fmt))
    assert _assert_clean_jpeg(stored.file_name).size == (40, 30)


def test_sixteen_bit_greyscale_keeps_its_brightness(app: Flask) -> None:
    stored = store_photo(_save(Image.new("I;16", (40, 30), 128 * 256), "PNG"))
    pixel = _open(stored.file_name).getpixel((20, 15))
    assert isinstance(pixel, tuple) and all(120 <= value <= 136 for value in pixel)


def test_multi_picture_jpeg_keeps_its_first_picture(app: Flask) -> None:
    # Phones store depth maps and previews this way (MPO); it is a still photo, not an animation.
    photo, depth_map = Image.new("RGB", (80, 60), RED), Image.new("RGB", (8, 6))
    stored = store_photo(_save(photo, "MPO", save_all=True, append_images=[depth_map]))
    assert (stored.width, stored.height) == (80, 60)


def _animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (50, 50), colour) for colour in (RED, BLUE)]
    return _save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _truncated(fmt: str) -> bytes:
    data = _save(_noise((300, 300)), fmt)
    return data[: len(data) // 2]


NOT_AN_IMAGE = "This is not a JPEG, PNG or WebP image"
DAMAGED = "The photo is damaged or incomplete"
TOO_MANY_PIXELS = "The photo has too many pixels: at most 40 megapixels are accepted"
ANIMATED = "Animated images are not accepted: upload a still photo"

REFUSED: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty": (lambda: b"", "The photo is empty"),
    "over 8 MB": (lambda: b"\xff\xd8\xff" + bytes(8 * 1024 * 1024), "The photo is larger than 8 MB"),
    "text": (lambda: b"pill photo.jpg\nnot really\n", NOT_AN_IMAGE),
    "gif": (lambda: _save(Image.new("RGB", (20, 20), RED), "GIF"), NOT_AN_IMAGE),
    "tiff": (lambda: _save(Image.new("RGB", (20, 20), RED), "TIFF"), NOT_AN_IMAGE),
    "svg": (lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', NOT_AN_IMAGE),
    "truncated jpeg": (lambda: _truncated("JPEG"), DAMAGED),
    "truncated png": (lambda: _truncated("PNG"), DAMAGED),
    "jpeg header only": (lambda: _save(Image.new("RGB", (20, 20)), "JPEG")[:200], DAMAGED),
    "animated webp": (lambda: _animated("WEBP"), ANIMATED),
    "animated png": (lambda: _animated("PNG"), ANIMATED),
    # Bombs are small files (the byte check comes first, so the message proves it), but
    # 400 megapixels is above twice the limit: Pillow raises DecompressionBombError.
    "bomb 20000x20000": (lambda: _png_bomb(20000, 20000), TOO_MANY_PIXELS),
    # 45 megapixels: between the limit and twice it, Pillow only warns; that is refused too.
    "bomb 9000x5000": (lambda: _png_bomb(9000, 5000), TOO_MANY_PIXELS),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_uploads_write_nothing(app: Flask, case: str) -> None:
    make, message = REFUSED[case]
    data = make()

    with pytest.raises(PhotoError) as refused:
        store_photo(data)

    assert str(refused.value) == message
    assert _upload_dir_is_empty(app)


def test_pixel_limit_follows_the_configuration(app: Flask) -> None:
    app.config["PHOTO_MAX_PIXELS"] = 1_000_000
    with pytest.raises(PhotoError, match="at most 1 megapixels"):
        store_photo(_save(Image.new("RGB", (1100, 1000), RED), "PNG"))
    assert _upload_dir_is_empty(app)
    assert store_photo(_save(Image.new("RGB", (1000, 1000), RED), "PNG")).width == 1000


def test_size_limit_follows_the_configuration(app: Flask) -> None:
    app.config["PHOTO_MAX_BYTES"] = 512 * 1024
    with pytest.raises(PhotoError, match=r"larger than 0\.5 MB"):
        store_photo(_save(_noise((600, 600)), "PNG"))
    assert _upload_dir_is_empty(app)


HEX = "0123456789abcdef" * 2
BAD_NAMES = ["", "../secret_key", f"{HEX}.png", f"{HEX[1:]}.jpg", f"{HEX}-t.jpg/", f"{HEX.upper()}.jpg"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_photo_file_path_accepts_only_names_we_make(app: Flask, name: str) -> None:
    assert photo_file_path(name) is None


def test_delete_removes_both_files_and_ignores_strangers(app: Flask, tmp_path: Path) -> None:
    stored = store_photo(_save(Image.new("RGB", (30, 30), RED), "PNG"))
    outside = tmp_path / "keep.txt"
    outside.write_text("not a photo")

    delete_photo_files([stored.file_name, stored.thumb_name, "../keep.txt", "0" * 32 + ".jpg"])

    assert _upload_dir_is_empty(app)
    assert outside.exists()


@pytest.fixture
def stored(app: Flask) -> StoredPhoto:
    return store_photo(_save(Image.new("RGB", (640, 480), BLUE), "PNG"))


def test_photo_is_served_as_an_immutable_jpeg(client: FlaskClient, stored: StoredPhoto) -> None:
    for name in (stored.file_name, stored.thumb_name):
        # The body streams from the file; closing the response closes it.
        with client.get(f"/photos/{name}") as response:
            assert response.status_code == 200
            assert response.mimetype == "image/jpeg"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.cache_control.immutable
            assert response.cache_control.public
            assert response.cache_control.max_age == 365 * 24 * 3600
            assert response.data == _stored(name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/photos/..%2f..%2fsecret_key",
        "/photos/..%2F..%2Fetc%2Fpasswd",
        "/photos/%2e%2e%2fetc%2fpasswd",
        "/photos/../etc/passwd",
        "/photos/..%5c..%5csecret_key",
        "/photos/abc.jpg",
        "/photos/.jpg",
        "/photos/" + "0" * 32 + ".jpg",  # well formed, but never stored
    ],
)
def test_unknown_or_crafted_names_are_not_found(client: FlaskClient, stored: StoredPhoto, path: str) -> None:
    assert client.get(path).status_code == 404


def test_variants_of_a_real_name_are_not_found(client: FlaskClient, stored: StoredPhoto) -> None:
    stem = stored.file_name.removesuffix(".jpg")
    for name in (stem.upper() + ".jpg", stem + ".JPG", stem + ".jpg%00", stem + ".jpg%0a", stem, "." + stem):
        assert client.get(f"/photos/{name}").status_code == 404, name
    assert client.get(f"/photos/x/..%2f{stored.file_name}").status_code == 404
