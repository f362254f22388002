"""Draw the integration's brand images into custom_components/seoul_safehome/brand/.

    .venv/bin/python scripts/make_brand.py

The mark: a house (Han-river blue) under a roof line (Namsan green), with a white shield
and a red keyhole in it: a safe home in Seoul's colours. The logo sets the mark beside
the name, "Seoul SafeHome" over "서울 세이프홈". Everything is drawn with Pillow at a large
size and scaled down, on a transparent background, trimmed, in the sizes Home Assistant's
brand rules ask for: icon 256x256 (@2x 512x512); logo with its short side 128 (@2x 256);
dark_ variants for dark themes.

The wordmark uses Noto Sans CJK KR Bold (Debian: `apt-get install fonts-noto-cjk`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
import sys

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "custom_components" / "seoul_safehome" / "brand"
FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
)

# Colours, light and dark theme.
THEMES = {
    "": {
        "house": (10, 94, 168),  # Han river blue
        "roof": (31, 157, 85),  # Namsan green
        "shield": (255, 255, 255),
        "keyhole": (214, 41, 62),  # dancheong red
        "name": (28, 36, 48),
        "name_ko": (10, 94, 168),
    },
    "dark_": {
        "house": (61, 143, 224),
        "roof": (60, 192, 112),
        "shield": (255, 255, 255),
        "keyhole": (226, 54, 74),
        "name": (242, 245, 248),
        "name_ko": (128, 186, 240),
    },
}

UNIT = 4  # the mark is designed on a 1000x1000 grid, drawn at 4000x4000
ICON = 256
LOGO_HEIGHT = 128


def _px(value: float) -> int:
    return round(value * UNIT)


def _bezier(
    p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float], steps: int = 48
) -> list[tuple[float, float]]:
    """Sample a quadratic Bézier curve."""
    points = []
    for i in range(steps + 1):
        t = i / steps
        x = (1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * p1[0] + t**2 * p2[0]
        y = (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * p1[1] + t**2 * p2[1]
        points.append((x, y))
    return points


def _rounded(mask: Image.Image, radius: float) -> Image.Image:
    """Round a shape's corners: blur its mask and cut it at half intensity."""
    blurred = mask.filter(ImageFilter.GaussianBlur(_px(radius)))
    return blurred.point(lambda v: 255 if v >= 128 else 0)


def _layer(size: int, draw_shape: Callable[[ImageDraw.ImageDraw], None]) -> Image.Image:
    """Return a mask with one shape drawn by `draw_shape`."""
    mask = Image.new("L", (size, size), 0)
    draw_shape(ImageDraw.Draw(mask))
    return mask


def mark(colours: dict[str, tuple[int, int, int]]) -> Image.Image:
    """Draw the mark (RGBA, large, untrimmed)."""
    size = _px(1000)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))

    def paint(mask: Image.Image, colour: tuple[int, int, int]) -> None:
        image.paste(Image.new("RGBA", image.size, (*colour, 255)), (0, 0), mask)

    # Roof line: a thick chevron with round ends, like the ridge of Namsan.
    roof = [(_px(60), _px(452)), (_px(500), _px(72)), (_px(940), _px(452))]
    paint(
        _layer(size, lambda d: d.line(roof, fill=255, width=_px(104), joint="curve")),
        colours["roof"],
    )
    r = _px(52)
    for x, y in (roof[0], roof[2]):
        end = (x - r, y - r, x + r, y + r)
        paint(_layer(size, lambda d, end=end: d.ellipse(end, fill=255)), colours["roof"])

    # The house: a pentagon under the roof line, with rounded corners.
    house = [(500, 232), (828, 515), (828, 950), (172, 950), (172, 515)]
    house_mask = _layer(size, lambda d: d.polygon([(_px(x), _px(y)) for x, y in house], fill=255))
    paint(_rounded(house_mask, 28), colours["house"])

    # A shield in the house.
    top = 470
    shield = [
        *_bezier((320, top + 40), (410, top + 20), (500, top - 10)),
        *_bezier((500, top - 10), (590, top + 20), (680, top + 40))[1:],
        (680, 640),
        *_bezier((680, 640), (672, 800), (500, 895))[1:],
        *_bezier((500, 895), (328, 800), (320, 640))[1:],
    ]
    shield_mask = _layer(size, lambda d: d.polygon([(_px(x), _px(y)) for x, y in shield], 255))
    paint(_rounded(shield_mask, 10), colours["shield"])

    # A keyhole in the shield.
    def keyhole(d: ImageDraw.ImageDraw) -> None:
        cx, cy, r = 500, 622, 62
        d.ellipse((_px(cx - r), _px(cy - r), _px(cx + r), _px(cy + r)), fill=255)
        stem = [(472, 650), (528, 650), (552, 790), (448, 790)]
        d.polygon([(_px(x), _px(y)) for x, y in stem], fill=255)

    paint(_rounded(_layer(size, keyhole), 8), colours["keyhole"])
    return image


def trim(image: Image.Image) -> Image.Image:
    """Cut away the fully transparent border."""
    bbox = image.getchannel("A").getbbox()
    assert bbox, "empty image"
    return image.crop(bbox)


def square(image: Image.Image, size: int) -> Image.Image:
    """Scale a trimmed image so its longer side is `size`, centred on a square canvas."""
    scale = size / max(image.size)
    resized = image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
        Image.Resampling.LANCZOS,
    )
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    canvas.paste(resized, ((size - resized.width) // 2, (size - resized.height) // 2))
    return canvas


def _font(size: int) -> ImageFont.FreeTypeFont:
    for path in FONT_FILES:
        if Path(path).is_file():
            for index in range(10):
                font = ImageFont.truetype(path, size, index=index)
                if font.getname()[0] == "Noto Sans CJK KR":
                    return font
    sys.exit("make_brand: Noto Sans CJK KR Bold not found; apt-get install fonts-noto-cjk")


def logo(colours: dict[str, tuple[int, int, int]], height: int) -> Image.Image:
    """Set the mark beside the name in English and Korean, `height` px tall, trimmed."""
    big = 8  # draw 8x, scale down
    h = height * big
    icon = square(trim(mark(colours)), h)
    name_font, ko_font = _font(round(h * 0.40)), _font(round(h * 0.25))
    name, name_ko = "Seoul SafeHome", "서울 세이프홈"
    gap = round(h * 0.16)
    text_w = max(name_font.getbbox(name)[2], ko_font.getbbox(name_ko)[2])
    canvas = Image.new("RGBA", (h + gap + text_w + h // 10, h), (0, 0, 0, 0))
    canvas.paste(icon, (0, 0), icon)
    draw = ImageDraw.Draw(canvas)
    draw.text((h + gap, round(h * 0.47)), name, font=name_font, fill=colours["name"], anchor="ls")
    draw.text(
        (h + gap + round(h * 0.01), round(h * 0.86)),
        name_ko,
        font=ko_font,
        fill=colours["name_ko"],
        anchor="ls",
    )
    trimmed = trim(canvas)
    scale = height / trimmed.height
    return trimmed.resize((round(trimmed.width * scale), height), Image.Resampling.LANCZOS)


def save(image: Image.Image, name: str) -> None:
    """Write an optimised PNG and say so."""
    path = OUT / name
    image.save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {image.width}x{image.height}")


def main() -> None:
    """Write every brand image."""
    OUT.mkdir(parents=True, exist_ok=True)
    for prefix, colours in THEMES.items():
        big = trim(mark(colours))
        save(square(big, ICON), f"{prefix}icon.png")
        save(square(big, ICON * 2), f"{prefix}icon@2x.png")
        save(logo(colours, LOGO_HEIGHT), f"{prefix}logo.png")
        save(logo(colours, LOGO_HEIGHT * 2), f"{prefix}logo@2x.png")


if __name__ == "__main__":
    main()
