"""The stamp on an evidence screenshot: a band above the captured page with its URL, the capture time in the
configured zone and in UTC, and the SHA-256 of the capture as it came from the browser (before the stamp).

The stamped PNG also carries that hash, the URL and the UTC time as PNG text fields, so the unstamped capture's
hash is kept with the file; the evidence record hashes the stamped file, which is what is stored and handed out.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.util
import io
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from crawler.i18n import Texts

UNSTAMPED_SHA256_KEY = "pricewatch:unstamped-sha256"
URL_KEY = "pricewatch:url"
CAPTURED_KEY = "pricewatch:captured-utc"
FONT_PX = 16
PADDING = 10
BAND_COLOR = (245, 245, 245)
TEXT_COLOR = (17, 17, 17)
RULE_COLOR = (160, 160, 160)


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (Cyrillic included): the system's, else the copy matplotlib ships."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        pass
    spec = importlib.util.find_spec("matplotlib")
    for location in (spec.submodule_search_locations or []) if spec else []:
        bundled = Path(location) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if bundled.is_file():
            return ImageFont.truetype(str(bundled), size)
    return ImageFont.load_default(size)


def is_stamped(png: bytes) -> bool:
    """Whether the PNG already carries a stamp (a crawl's capture stored again must not get a second)."""
    try:
        with Image.open(io.BytesIO(png)) as image:
            return UNSTAMPED_SHA256_KEY in image.info
    except OSError:
        return False


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int) -> str:
    """`text`, cut with an ellipsis to fit `width` pixels."""
    font = _font(FONT_PX)
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def stamp_lines(url: str, captured_at: dt.datetime, digest: str, tz: ZoneInfo, texts: Texts) -> list[str]:
    local, utc = captured_at.astimezone(tz), captured_at.astimezone(dt.UTC)
    return [
        f"URL: {url}",
        texts(
            "stamp.captured",
            local=f"{local:%d.%m.%Y %H:%M:%S} {local.tzname()}",
            utc=f"{utc:%Y-%m-%d %H:%M:%S} UTC",
        ),
        texts("stamp.sha256", sha256=digest),
    ]


def stamp_png(png: bytes, url: str, captured_at: dt.datetime, tz: ZoneInfo, texts: Texts) -> tuple[bytes, str]:
    """(the stamped PNG, the SHA-256 of `png` as captured)."""
    digest = hashlib.sha256(png).hexdigest()
    with Image.open(io.BytesIO(png)) as shot:
        page = shot.convert("RGB")
    line_height = FONT_PX + 6
    lines = stamp_lines(url, captured_at, digest, tz, texts)
    band = PADDING * 2 + line_height * len(lines)
    out = Image.new("RGB", (page.width, page.height + band), BAND_COLOR)
    out.paste(page, (0, band))
    draw = ImageDraw.Draw(out)
    for i, line in enumerate(lines):
        draw.text(
            (PADDING, PADDING + i * line_height),
            _fit(draw, line, page.width - 2 * PADDING),
            font=_font(FONT_PX),
            fill=TEXT_COLOR,
        )
    draw.line([(0, band - 1), (page.width, band - 1)], fill=RULE_COLOR, width=1)
    info = PngInfo()
    info.add_text(UNSTAMPED_SHA256_KEY, digest)
    info.add_text(URL_KEY, url)
    info.add_text(CAPTURED_KEY, captured_at.astimezone(dt.UTC).isoformat(timespec="seconds"))
    buffer = io.BytesIO()
    out.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue(), digest
