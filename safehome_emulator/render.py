"""Draw the cameras' picture: a moving scene with the device name and a clock.

Rendering is CPU work with Pillow: call it from a worker thread, not the event loop.
"""

from __future__ import annotations

import io
import math
import threading
import time

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 320, 240
_local = threading.local()


def _fonts() -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, ...]:
    """Return this thread's fonts (FreeType faces must not be shared across threads)."""
    fonts = getattr(_local, "fonts", None)
    if fonts is None:
        fonts = (ImageFont.load_default(size=16), ImageFont.load_default(size=12))
        _local.fonts = fonts
    return fonts


def render(name: str, frame: int, *, motion: bool = False, now: float | None = None) -> Image.Image:
    """Return one RGB frame of the scene at time `now` (default: the current time)."""
    t = time.time() if now is None else now
    big, small = _fonts()
    shade = int(40 + 30 * math.sin(t / 7))
    image = Image.new("RGB", (WIDTH, HEIGHT), (shade, shade + 30, 90 + shade))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, HEIGHT * 2 // 3, WIDTH, HEIGHT), fill=(60, 50 + shade // 2, 40))
    # A ball bouncing across the room, so that consecutive frames differ.
    x = WIDTH / 2 + (WIDTH / 2 - 20) * math.sin(t * 1.3)
    y = HEIGHT * 2 / 3 - 20 - abs(60 * math.sin(t * 3.1))
    draw.ellipse((x - 14, y - 14, x + 14, y + 14), fill=(240, 200, 40), outline=(0, 0, 0))
    if motion:
        draw.rectangle((40, 90, 80, 160), fill=(30, 30, 30))
        draw.ellipse((46, 62, 74, 90), fill=(30, 30, 30))
        draw.text((WIDTH - 70, 30), "MOTION", font=small, fill=(255, 60, 60))
    draw.rectangle((0, 0, WIDTH, 24), fill=(0, 0, 0))
    draw.text((6, 4), name, font=big, fill=(255, 255, 255))
    clock = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"
    draw.rectangle((0, HEIGHT - 20, WIDTH, HEIGHT), fill=(0, 0, 0))
    draw.text((6, HEIGHT - 17), clock, font=small, fill=(255, 255, 255))
    draw.text((WIDTH - 60, HEIGHT - 17), f"#{frame}", font=small, fill=(160, 160, 160))
    return image


def to_jpeg(image: Image.Image, quality: int = 80) -> bytes:
    """Encode a frame as JPEG."""
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def snapshot(name: str, frame: int, *, motion: bool = False) -> bytes:
    """Render and encode one JPEG snapshot."""
    return to_jpeg(render(name, frame, motion=motion))
