"""The PDF's evidence annex: each screenshot the report's violations carry, once, at full resolution, as wide as a
landscape page allows: a long page is cut into tiles of equal height, one per page under the caption."""

from __future__ import annotations

import base64
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from crawler.stamp import UNSTAMPED_SHA256_KEY
from reports.data import EvidenceFile, Violation

log = logging.getLogger(__name__)

FULL_WIDTH_RATIO = 0.58  # height / width of a tile shown at the page's full width under the annex caption
MAX_RATIO = 0.75  # a taller tile is shown narrower (down to 77 %) rather than cut once more
MAX_TILES = 6  # pages per screenshot; the rest of a very long page is left to the PNG itself


@dataclass(frozen=True)
class Tile:
    uri: str  # PNG data: URI
    width_pct: int  # of the page's width


@dataclass(frozen=True)
class AnnexEntry:
    label: str  # "A1": how the violations table refers to it
    file: EvidenceFile
    violations: list[Violation]  # those this screenshot is evidence of
    tiles: list[Tile]  # top to bottom
    cut: bool  # the page was longer than MAX_TILES tiles
    unstamped_sha256: str | None  # of the capture before its stamp was added (None: an unstamped file)


def anchor(label: str) -> str:
    return f"annex-{label}"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def tiles(image: Image.Image) -> tuple[list[Tile], bool]:
    """The image cut into equal tiles no taller than MAX_RATIO × its width, and whether some was left out."""
    width, height = image.size
    count = max(1, math.ceil(height / max(1, width * MAX_RATIO)))
    shown = min(count, MAX_TILES)
    step = math.ceil(height / count)
    width_pct = min(100, math.floor(100 * FULL_WIDTH_RATIO * width / step))
    out = []
    for i in range(shown):
        part = image.crop((0, i * step, width, min(height, (i + 1) * step)))
        buffer = io.BytesIO()
        part.convert("RGB").save(buffer, format="PNG")
        out.append(Tile(_data_uri(buffer.getvalue()), width_pct))
    return out, count > shown


def _entry(label: str, file: EvidenceFile, violations: list[Violation]) -> AnnexEntry:
    try:
        with Image.open(file.path) as image:
            unstamped = image.info.get(UNSTAMPED_SHA256_KEY)
            parts, cut = tiles(image)
    except (OSError, UnidentifiedImageError) as exc:
        log.warning("evidence screenshot %s: %s", file.path, exc)
        return AnnexEntry(label, file, violations, [], False, None)
    return AnnexEntry(label, file, violations, parts, cut, unstamped)


def build_annex(violations: Sequence[Violation]) -> list[AnnexEntry]:
    """One entry per screenshot file, in the order the violations first reference them."""
    by_file: dict[str, tuple[EvidenceFile, list[Violation]]] = {}
    for v in violations:
        if v.screenshot is not None:
            by_file.setdefault(v.screenshot.sha256, (v.screenshot, []))[1].append(v)
    return [_entry(f"A{i}", file, shown) for i, (file, shown) in enumerate(by_file.values(), start=1)]
