"""Pill photos: check an upload, re-encode it without metadata, and store it under a random name.

Uploads come from editors but travel onwards to the public, so nothing of the original file is
kept: no EXIF (a phone photo carries the GPS position of the testing site), no XMP, no PNG text.
Only freshly decoded pixels are written, as a JPEG and a thumbnail beside it.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

# Only what token_hex(16) produces, so a name can never reach outside UPLOAD_DIR.
NAME_PATTERN = re.compile(r"[0-9a-f]{32}(?:-t)?\.jpg")
THUMB_SUFFIX = "-t"
JPEG_QUALITY = 85
# Pillow plugins that may open an upload; everything else is refused by content, not by name.
# MPO is how Pillow names a JPEG with extra pictures (phone cameras add depth maps and previews).
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
MAY_ANIMATE = {"PNG", "WEBP"}
WHITE = (255, 255, 255)


class PhotoError(ValueError):
    """A photo we refuse; the message is written for the editor who uploaded it."""


@dataclass(frozen=True)
class StoredPhoto:
    file_name: str
    thumb_name: str
    width: int
    height: int


def store_photo(data: bytes) -> StoredPhoto:
    """Check and re-encode `data`, then write the photo and its thumbnail into UPLOAD_DIR.

    Raises PhotoError before anything is written when the upload is refused.
    """
    config = current_app.config
    max_bytes: int = config["PHOTO_MAX_BYTES"]
    if not data:
        raise PhotoError("The photo is empty")
    if len(data) > max_bytes:
        raise PhotoError(f"The photo is larger than {_megabytes(max_bytes)} MB")

    max_edge: int = config["PHOTO_MAX_EDGE"]
    thumb_edge: int = config["PHOTO_THUMB_EDGE"]
    image = _decode(data, config["PHOTO_MAX_PIXELS"], max_edge)
    image.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    thumb = image.copy()
    thumb.thumbnail((thumb_edge, thumb_edge), Image.Resampling.LANCZOS)

    photo_bytes, thumb_bytes = _encode(image), _encode(thumb)

    stem = secrets.token_hex(16)
    stored = StoredPhoto(f"{stem}.jpg", f"{stem}{THUMB_SUFFIX}.jpg", image.width, image.height)
    directory = Path(config["UPLOAD_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomically(directory / stored.file_name, photo_bytes)
    try:
        _write_atomically(directory / stored.thumb_name, thumb_bytes)
    except BaseException:
        # Never leave a photo without its thumbnail: the caller will not record either.
        (directory / stored.file_name).unlink(missing_ok=True)
        raise
    _sync_directory(directory)
    return stored


def photo_file_path(name: str) -> Path | None:
    """Where a stored photo lives, or None for any name store_photo cannot have produced.

    The file itself may be missing; callers that serve it answer 404 then.
    """
    if not NAME_PATTERN.fullmatch(name):
        return None
    return Path(current_app.config["UPLOAD_DIR"]) / name


def delete_photo_files(names: Iterable[str]) -> None:
    """Remove stored files by name; unknown or invalid names are skipped.

    Versions copy photo rows and share their files, so only call this once no row uses them.
    """
    for name in names:
        path = photo_file_path(name)
        if path is not None:
            path.unlink(missing_ok=True)


def _decode(data: bytes, max_pixels: int, max_edge: int) -> Image.Image:
    """The upload's pixels as a fresh RGB image, upright, with no metadata attached."""
    # Pillow's own guard, set to our limit: it warns above it and raises above twice it. Both
    # happen inside Image.open after reading only the header, before any pixel is decoded.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(_too_many_pixels(max_pixels)) from None
    except UnidentifiedImageError:
        raise PhotoError("This is not a JPEG, PNG or WebP image") from None
    except Exception:
        # A file that starts like an image but whose header is broken.
        raise PhotoError("The photo is damaged or incomplete") from None

    with source:
        # Again ourselves: the limit is process-wide and catch_warnings is not thread-safe, so
        # another thread may have let the warning through or changed the limit meanwhile.
        if source.width * source.height > max_pixels:
            raise PhotoError(_too_many_pixels(max_pixels))
        if source.format in MAY_ANIMATE and getattr(source, "is_animated", False):
            raise PhotoError("Animated images are not accepted: upload a still photo")
        try:
            _reduce_while_decoding(source, max_edge)
            source.load()
            upright = ImageOps.exif_transpose(source)
            return _flatten(_to_srgb(upright))
        except PhotoError:
            raise
        except Exception:
            # Pillow's decoders raise a wide, undocumented range of exceptions on hostile or
            # broken input (OSError for truncation, ValueError, SyntaxError, struct.error, ...).
            raise PhotoError("The photo is damaged or incomplete") from None


def _reduce_while_decoding(image: Image.Image, max_edge: int) -> None:
    """Let libjpeg decode a large JPEG at 1/2, 1/4 or 1/8 scale: far less memory for 40 MP.

    We ask for twice the final size, as Image.thumbnail does, so the last resize keeps detail.
    A no-op for PNG and WebP.
    """
    longest = max(image.size)
    if longest <= max_edge:
        return
    scale = 2 * max_edge / longest
    image.draft(None, (max(1, int(image.width * scale)), max(1, int(image.height * scale))))


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert colours from an embedded ICC profile to sRGB, since the profile itself is dropped.

    Phones shoot in Display P3; without this the pill colours an alert describes would shift.
    A profile that does not fit the image is ignored, as browsers do.
    """
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in {"RGB", "RGBA", "CMYK", "L"}:
        return image
    output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
    try:
        converted = ImageCms.profileToProfile(
            image,
            ImageCms.ImageCmsProfile(io.BytesIO(icc)),
            ImageCms.createProfile("sRGB"),
            outputMode=output_mode,
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image
    return converted if converted is not None else image


def _flatten(image: Image.Image) -> Image.Image:
    """A new RGB image holding only the pixels: transparency lands on white, info stays behind."""
    if image.mode.startswith("I"):
        # 16-bit greyscale PNG: Pillow's plain convert clips it to white, so scale to 8 bits.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    has_alpha = image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info
    fresh = Image.new("RGB", image.size, WHITE)
    if has_alpha:
        rgba = image.convert("RGBA")
        fresh.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
    else:
        fresh.paste(image.convert("RGB"))
    return fresh


def _encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # No exif, icc_profile, xmp or comment arguments: Pillow writes only what it is given.
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the whole file or none: write a temporary file beside it, then rename."""
    # The leading dot keeps temporary names outside NAME_PATTERN, so they are never served.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private; these photos are public, and a front-end web server
        # running as another user may serve the directory.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _sync_directory(directory: Path) -> None:
    """Make the renames durable before the caller commits rows that point at the files."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _too_many_pixels(max_pixels: int) -> str:
    megapixels = f"{max_pixels / 1_000_000:.1f}".removesuffix(".0")
    return f"The photo has too many pixels: at most {megapixels} megapixels are accepted"
