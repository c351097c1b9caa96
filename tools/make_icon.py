"""Draw static/icon-192.png, the notification icon: a white exclamation mark on red.

Shapes only (no font files), so the output is the same on every machine. Run it again only
to change the design: `.venv/bin/python tools/make_icon.py`.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 192
RED = (176, 0, 32, 255)  # --red in site.css
WHITE = (255, 255, 255, 255)
TARGET = Path(__file__).resolve().parent.parent / "static" / "icon-192.png"


def draw() -> Image.Image:
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, SIZE - 1, SIZE - 1), radius=36, fill=RED)
    pen.rounded_rectangle((80, 30, 112, 124), radius=14, fill=WHITE)
    pen.ellipse((78, 138, 114, 174), fill=WHITE)
    return image


if __name__ == "__main__":
    draw().save(TARGET, optimize=True)
    print(f"wrote {TARGET}")
