"""A PDF as a reader meets it, through Poppler: its text page by page, its raster images, its pages as PNG."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from PIL import Image, ImageOps

from tests.support.services import require

FOOTER_SHARE = 0.06  # the bottom of a page that holds the running footer, not content
HYPHEN_BREAK = re.compile(r"[-‐\u00ad]\n")
XHTML = "{http://www.w3.org/1999/xhtml}"
ANNEX_PAGE = re.compile(r"(?m)^A\d+(\. |, продолжение)")


def need_poppler() -> None:
    tools = ("pdftotext", "pdftoppm", "pdfimages")
    require(all(shutil.which(t) is not None for t in tools), "poppler-utils (pdftotext, pdftoppm, pdfimages)")


def pdf_text(pdf: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def page_texts(pdf: Path) -> list[str]:
    """The text of each page, in order."""
    pages = pdf_text(pdf).split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def figure_above(layout: str, label: str) -> str:
    """The figure printed above `label` in headline boxes (`pdftotext -layout` keeps the columns)."""
    lines = layout.splitlines()
    for i, line in enumerate(lines):
        column = line.find(label)
        if column < 0:
            continue
        above = next(lines[j] for j in range(i - 1, -1, -1) if lines[j].strip())
        return re.split(r"\s{2,}", above[column:].strip())[0]
    raise AssertionError(f"no figure labelled {label!r}")


def annex_pages(pages: list[str]) -> set[int]:
    """The numbers (from 1) of the pages of a report's screenshot annex: each starts with its entry's label."""
    return {i for i, text in enumerate(pages, start=1) if ANNEX_PAGE.search(text)}


def unhyphenated(text: str) -> str:
    """The text with words broken by hyphenation at line ends joined again, and lines as spaces."""
    return HYPHEN_BREAK.sub("", text).replace("\n", " ")


def column_texts(pdf: Path) -> list[str]:
    """The text of each column of lines Poppler finds (a table cell, a paragraph), hyphenated words joined: in a
    block, each line's left edge starts a column, and a word belongs to the column starting nearest left of it (Poppler
    may run one line through cells side by side)."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True).stdout
    texts = []
    for block in ElementTree.fromstring(xml).iter(f"{XHTML}block"):
        lines = list(block.iter(f"{XHTML}line"))
        starts = sorted({round(float(line.get("xMin", "0"))) for line in lines})
        columns: dict[int, list[str]] = {start: [] for start in starts}
        for line in lines:
            row: dict[int, list[str]] = {}
            for word in line.iter(f"{XHTML}word"):
                left = round(float(word.get("xMin", "0")))
                start = max((s for s in starts if s <= left), default=starts[0])
                row.setdefault(start, []).append(word.text or "")
            for start, words in row.items():
                columns[start].append(" ".join(words))
        texts += [unhyphenated("\n".join(rows)) for rows in columns.values() if rows]
    return texts


@dataclass(frozen=True)
class PdfImage:
    page: int  # from 1
    width: int  # pixels
    height: int


def raster_images(pdf: Path) -> list[PdfImage]:
    """Every raster image the PDF draws (their soft masks left out); vector drawings are none of them."""
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    images = []
    for line in listing.splitlines()[2:]:
        cells = line.split()
        if len(cells) > 4 and cells[2] == "image":
            images.append(PdfImage(int(cells[0]), int(cells[3]), int(cells[4])))
    return images


def render_pages(pdf: Path, folder: Path, dpi: int = 40) -> list[Path]:
    """Every page as a PNG, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def content_depth(png: Path) -> float:
    """How far down the page (0..1, footer left out) its content reaches: a near-empty page reaches little."""
    with Image.open(png) as image:
        gray = image.convert("L")
    body = gray.crop((0, 0, gray.width, round(gray.height * (1 - FOOTER_SHARE))))
    ink = ImageOps.invert(body).point(lambda v: 255 if v > 40 else 0)
    box = ink.getbbox()
    return 0.0 if box is None else box[3] / body.height
