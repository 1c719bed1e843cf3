"""Draws the app's icon (resources/icons/): a rounded teal square with a white heart-rate line and
"HT". Run once when the design changes; the PNG, ICO (Windows) and ICNS (macOS) are committed.

    .venv/bin/python installer/make_icons.py
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
FONT = ROOT / "resources" / "fonts" / "DejaVuSans-Bold.ttf"


def draw(size: int = 1024) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(image)
    s = size / 1024
    d.rounded_rectangle((40 * s, 40 * s, 984 * s, 984 * s), radius=200 * s, fill=(0, 110, 110, 255))
    # a heart-rate line across the upper half
    line = [(150, 380), (360, 380), (430, 230), (520, 540), (600, 300), (660, 380), (874, 380)]
    d.line([(x * s, y * s) for x, y in line], fill=(255, 255, 255, 255), width=int(48 * s), joint="curve")
    font = ImageFont.truetype(str(FONT), int(380 * s))
    d.text((512 * s, 760 * s), "HT", font=font, fill=(255, 255, 255, 255), anchor="mm")
    return image


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    big = draw()
    big.resize((256, 256), Image.LANCZOS).save(ICONS / "htdesk.png")
    big.save(ICONS / "htdesk.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    big.resize((512, 512), Image.LANCZOS).save(ICONS / "htdesk.icns")


if __name__ == "__main__":
    main()
