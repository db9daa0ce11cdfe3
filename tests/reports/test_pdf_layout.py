"""The PDF as a manager holds it, checked page by page through Poppler: a cover, vector charts, a readable annex of
stamped screenshots, one time zone, words broken only by hyphenation, no near-empty page."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from crawler.i18n import Texts
from crawler.stamp import stamp_png
from reports.output import write_report
from storage.engine import session_scope
from storage.models import Product
from tests.support.pdf import (
    annex_pages,
    column_texts,
    content_depth,
    figure_above,
    need_poppler,
    page_texts,
    pdf_text,
    raster_images,
    render_pages,
    unhyphenated,
)

PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-10"}
SHOT_URL = "http://127.0.0.1:8703/item/2?seller=shop"


@pytest.fixture
def report_pdf(sqlite_scenario: Any, tmp_path: Path) -> Path:
    """Every distributor's report, the catalog's products of the brand Termoline."""
    need_poppler()
    with session_scope(sqlite_scenario.engine) as session:
        session.execute(update(Product).values(brand="Termoline"))
    out = tmp_path / "all.pdf"
    write_report(out, "pdf", sqlite_scenario.engine, sqlite_scenario.config, **PERIOD)
    return out


def _page_of(pages: list[str], text: str, after: int = 1) -> int:
    """The number (from 1) of the first page after `after` showing `text`."""
    return next(i for i, page in enumerate(pages, start=1) if i > after and text in page)


def test_the_first_page_is_a_cover_with_brand_period_totals_and_contents(report_pdf: Path, tmp_path: Path) -> None:
    pages = page_texts(report_pdf)
    cover = pages[0]
    assert cover.startswith("Termoline")
    assert "Нарушения РРЦ — Все дистрибьюторы" in cover
    assert "Период: 01.03.2026 — 10.03.2026, время Europe/Moscow" in cover
    layout = pdf_text(report_pdf, "-layout", "-f", "1", "-l", "1")
    figures = {label: figure_above(layout, label) for label in ("Нарушений", "Макс. отклонение", "Дней без товара")}
    assert figures == {"Нарушений": "4", "Макс. отклонение": "−25 %", "Дней без товара": "3"}
    # The contents give each part's page, and each part is on that page.
    for title in ("Дистрибьютор: ТехСнаб (techsnab)", "Дистрибьютор: МаркетПлюс (market)", "Приложение."):
        match = re.search(rf"{re.escape(title)}[^\n]* · с\. (\d+)", cover)
        assert match, title
        assert int(match[1]) == _page_of(pages, title)
    (first, *_rest) = render_pages(report_pdf, tmp_path / "pages")
    assert content_depth(first) > 0.5  # a full cover, not a heading over an empty page


def test_charts_are_vector_and_the_annex_shows_the_screenshot_at_full_size(report_pdf: Path) -> None:
    pages = page_texts(report_pdf)
    images = raster_images(report_pdf)
    chart_pages = [i for i, text in enumerate(pages, start=1) if "Цена и РРЦ по SKU" in text]
    annex = annex_pages(pages)
    assert chart_pages
    assert not {i.page for i in images} & set(chart_pages)  # the charts draw no raster image
    assert images
    assert {i.page for i in images} <= annex
    assert {i.width for i in images} == {320}  # the screenshot's own width: full resolution, no thumbnail
    assert sum(i.height for i in images) == 480  # the whole page, in tiles


def test_evidence_times_are_local_with_utc_beside_them_and_the_capture_hash_is_shown(
    sqlite_scenario: Any, tmp_path: Path
) -> None:
    need_poppler()
    root = sqlite_scenario.evidence_dir
    msk = ZoneInfo("Europe/Moscow")
    stored = next(root.rglob("*.png"))
    capture = stored.read_bytes()
    stamped, digest = stamp_png(capture, SHOT_URL, sqlite_scenario.at(4, 12, 50), msk, Texts("ru", msk))
    stored.write_bytes(stamped)  # the file as the capture step stores it now
    out = tmp_path / "market.pdf"
    write_report(out, "pdf", sqlite_scenario.engine, sqlite_scenario.config, distributor="market", **PERIOD)
    pages = page_texts(out)
    text = unhyphenated("\f".join(pages))
    assert "Снято: 04.03.2026 12:50 MSK (2026-03-04 09:50:00 UTC)" in text
    assert f"SHA-256 снимка до штампа: {digest}" in text
    assert f"SHA-256 файла: {hashlib.sha256(capture).hexdigest()}" in text  # the recorded hash
    assert "PNG · 04.03.2026 12:50 MSK (2026-03-04 09:50:00 UTC)" in text  # the table, the same way
    reference = re.search(r"Скриншот A1 · с\. (\d+)", text)
    assert reference
    assert int(reference[1]) == _page_of(pages, "A1. ")


def test_words_break_only_where_hyphenation_allows_and_no_page_is_near_empty(report_pdf: Path, tmp_path: Path) -> None:
    raw = pdf_text(report_pdf)
    cells = column_texts(report_pdf)
    for words in ("Параллельный импорт", "Впервые / Последний раз", "TL-1001 Обогреватель Термолайн ОМ-1001"):
        assert words in cells
    assert not re.search(r"Параллельны\s+й|Последни\s+й", raw)  # the old break of a word without a hyphen
    depths = [content_depth(png) for png in render_pages(report_pdf, tmp_path / "pages")]
    assert min(depths) > 0.2, depths
