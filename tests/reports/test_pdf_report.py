"""The PDF report: headline figures and Russian text survive pdftotext, the first page is not blank."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

import reports.pdf
from reports.data import collect_report
from reports.labels import texts_for
from reports.output import write_report
from reports.pdf import render_html
from tests.support.pdf import figure_above, need_poppler, pdf_text

PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-10"}


@pytest.fixture
def poppler() -> None:
    need_poppler()


@pytest.mark.usefixtures("poppler")
def test_headline_figures_of_one_distributor_in_russian(sqlite_scenario: Any, tmp_path: Path) -> None:
    out = tmp_path / "techsnab.pdf"
    write_report(out, "pdf", sqlite_scenario.engine, sqlite_scenario.config, distributor="techsnab", **PERIOD)
    text = pdf_text(out)
    assert "Нарушения РРЦ" in text
    assert "Дистрибьютор: ТехСнаб (techsnab)" in text
    assert "Период: 01.03.2026 — 10.03.2026" in text
    layout = pdf_text(out, "-layout")
    figures = {
        label: figure_above(layout, label)
        for label in (
            "SKU под наблюдением",
            "SKU с нарушениями",
            "Среднее отклонение",
            "Макс. отклонение",
            "Дней нарушений",
            "Повторных нарушений",
            "Дней без товара",
            "Упущенные продажи, ₽",
        )
    }
    assert figures == {
        "SKU под наблюдением": "3",
        "SKU с нарушениями": "2",
        "Среднее отклонение": "−21,59 %",
        "Макс. отклонение": "−25 %",
        "Дней нарушений": "6",
        "Повторных нарушений": "1",
        "Дней без товара": "3",
        "Упущенные продажи, ₽": "150 000 ₽",
    }
    assert "TL-1002" in text  # the stock-out table
    assert "TL-1003" in text  # the violations table
    assert "МаркетПлюс" not in text


@pytest.mark.usefixtures("poppler")
def test_all_distributors_get_their_own_section(sqlite_scenario: Any, tmp_path: Path) -> None:
    out = tmp_path / "all.pdf"
    write_report(out, "pdf", sqlite_scenario.engine, sqlite_scenario.config, **PERIOD)
    text = pdf_text(out)
    assert "Все дистрибьюторы" in text
    assert "Дистрибьютор: ТехСнаб (techsnab)" in text
    assert "Дистрибьютор: МаркетПлюс (market)" in text
    assert text.count("\f") >= 3  # the cover, the overview and sections, the annex


@pytest.mark.usefixtures("poppler")
def test_first_page_is_not_blank(sqlite_scenario: Any, tmp_path: Path) -> None:
    out = tmp_path / "techsnab.pdf"
    write_report(out, "pdf", sqlite_scenario.engine, sqlite_scenario.config, distributor="techsnab", **PERIOD)
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(out), str(tmp_path / "page")], check=True)
    (png,) = tmp_path.glob("page*.png")
    with Image.open(png) as image:
        gray = image.convert("L")
        stat = ImageStat.Stat(gray)
        dark = sum(gray.histogram()[:128])
    assert stat.stddev[0] > 10
    assert dark > 500  # text, figures and a chart, not a white page


def test_evidence_is_linked_and_shown_in_the_annex_never_rendered(sqlite_scenario: Any, tmp_path: Path) -> None:
    config = sqlite_scenario.config
    data = collect_report(sqlite_scenario.engine, config, distributor="market", **PERIOD)
    html = render_html(data, texts_for(config), tmp_path)
    # The stored page HTML holds a <script>; the report only links to the file.
    assert "alert(1)" not in html
    shot = data.violations[0].screenshot
    assert shot is not None
    assert f'href="evidence/2026-03-04/{shot.sha256}.png"' in html
    assert shot.sha256 in html
    # Two charts (TL-1002, TL-1001) as SVG, and the screenshot in the annex (two tiles of a tall page), inlined.
    assert html.count('src="data:image/svg+xml;base64,') == 2
    assert html.count('src="data:image/png;base64,') == 2
    assert 'href="#annex-A1"' in html
    assert 'id="annex-A1"' in html


def test_long_reports_say_what_they_leave_to_the_xlsx(
    sqlite_scenario: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for limit in ("MAX_ROWS", "MIN_ROWS", "MAX_CHARTS", "MIN_CHARTS"):
        monkeypatch.setattr(reports.pdf, limit, 1)
    config = sqlite_scenario.config
    data = collect_report(sqlite_scenario.engine, config, distributor="techsnab", **PERIOD)
    html = render_html(data, texts_for(config), tmp_path)
    assert "В таблице 1 самых глубоких нарушений из 2" in html
    assert "Графики показаны для 1 SKU с наибольшим отклонением из 2" in html
    assert html.count('src="data:image/svg+xml;base64,') == 1
    # The deepest violation is the one kept.
    assert "TL-1003" in html
    assert "http://127.0.0.1:8701/product/tl-1001" not in html


def test_english_report(sqlite_scenario: Any, tmp_path: Path) -> None:
    config = sqlite_scenario.config
    data = collect_report(sqlite_scenario.engine, config, distributor="techsnab", **PERIOD)
    html = render_html(data, texts_for(config, "en"), tmp_path)
    assert "SKUs in violation" in html
    assert "-21.59%" in html
    assert "Нарушения РРЦ" not in html
