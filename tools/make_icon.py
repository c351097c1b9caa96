"""Draw static/icon-192.png (the notification icon) and static/icon-512.png (the installed web
app's, named in static/manifest.webmanifest): a white exclamation mark on red.

Shapes only (no font files), so the output is the same on every machine. Run it again only
to change the design: `.venv/bin/python tools/make_icon.py`.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZES = (192, 512)
DESIGN = 192  # the coordinates below are for this size; larger icons scale them
RED = (176, 0, 32, 255)  # --red in site.css
WHITE = (255, 255, 255, 255)
STATIC = Path(__file__).resolve().parent.parent / "static"


def draw(size: int = DESIGN) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)

    def scaled(*values: int) -> tuple[int, ...]:
        return tuple(round(value * size / DESIGN) for value in values)

    pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=scaled(36)[0], fill=RED)
    pen.rounded_rectangle(scaled(80, 30, 112, 124), radius=scaled(14)[0], fill=WHITE)
    pen.ellipse(scaled(78, 138, 114, 174), fill=WHITE)
    return image


if __name__ == "__main__":
    for size in SIZES:
        target = STATIC / f"icon-{size}.png"
        draw(size).save(target, optimize=True)
        print(f"wrote {target}")
