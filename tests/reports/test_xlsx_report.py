"""The XLSX report, opened with openpyxl, shows the scenario's figures and the database's rows."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from reports.output import build_report, write_report
from storage.engine import session_scope
from storage.models import Alert, CrawlRun, Observation, RunStatus

PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-10"}
SUMMARY_COLUMNS = [
    "skus_watched",
    "skus_in_violation",
    "violations",
    "avg_deviation_pct",
    "deepest_deviation_pct",
    "violation_days",
    "repeat_offences",
    "weekend_share",
    "night_share",
    "stock_out_days",
    "lost_sales",
]


def _as_cell(key: str, value: Decimal | int | None) -> Any:
    """How the workbook stores a summary figure: deviations as fractions (percent format), the rest as is."""
    if value is None:
        return None
    if key.endswith("deviation_pct"):
        return pytest.approx(float(value) / 100)
    return pytest.approx(float(value))


@pytest.fixture
def workbook(scenario: Any, tmp_path: Path) -> openpyxl.Workbook:
    out = tmp_path / "violations.xlsx"
    write_report(out, "xlsx", scenario.engine, scenario.config, **PERIOD)
    return openpyxl.load_workbook(out)


def test_summary_sheet_shows_the_figures_per_distributor(workbook: openpyxl.Workbook, scenario: Any) -> None:
    sheet = workbook["Сводка"]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=6, values_only=True) if r[1] in ("techsnab", "market")}
    assert set(rows) == {"techsnab", "market"}
    for code, expected in scenario.expected.items():
        got = dict(zip(SUMMARY_COLUMNS, rows[code][2:13], strict=True))
        assert got == {key: _as_cell(key, expected[key]) for key in SUMMARY_COLUMNS}, code


def test_violations_sheet_lists_each_violation_alert_of_the_period(workbook: openpyxl.Workbook, scenario: Any) -> None:
    with session_scope(scenario.engine) as session:
        in_period = session.scalar(
            select(func.count(Alert.id)).where(
                Alert.rule.in_(["dumping", "parallel_import"]),
                Alert.opened_at < scenario.at(11, 0),
                Alert.last_seen_at >= scenario.at(1, 0),
            )
        )
    sheet = workbook["Нарушения"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == in_period == 4
    by_code = {(r["Артикул"], r["Продавец"]): r for r in rows}
    tl1001 = by_code[("TL-1001", "ТехСнаб")]
    # Deepest on day 6: 9 000 against the new RRP of 11 000 (valid from March 6), four days, one earlier episode.
    assert (tl1001["РРЦ, ₽"], tl1001["Цена, ₽"], tl1001["Дней"], tl1001["Повтор №"]) == (11000, 9000, 4, 1)
    assert tl1001["Отклонение"] == pytest.approx(-0.1818)
    assert tl1001["Статус"] == "устранено"
    grey = by_code[("TL-1001", "ИП Серый")]
    assert (grey["Нарушение"], grey["Авторизован"], grey["Дней"]) == ("Параллельный импорт", "нет", 10)
    assert grey["Признаки"] == "продавец не авторизован"
    shop = by_code[("TL-1002", "Магазин Тепла")]
    assert shop["Отклонение"] == pytest.approx(-0.20)


def test_violation_links_open_the_page_and_the_evidence_files(
    workbook: openpyxl.Workbook, scenario: Any, tmp_path: Path
) -> None:
    sheet = workbook["Нарушения"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("Продавец")].value == "Магазин Тепла")
    page = row[header.index("Страница")]
    assert page.hyperlink.target == "http://127.0.0.1:8703/item/2?seller=shop"
    shot_link = row[header.index("Скриншот")].hyperlink.target.replace("\\", "/")
    html_link = row[header.index("HTML")].hyperlink.target.replace("\\", "/")
    # Relative to the workbook's folder, so the report and the evidence folder can move together.
    assert (tmp_path / shot_link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / html_link).name.endswith(".html.gz")
    assert row[header.index("SHA-256 скриншота")].value == Path(shot_link).name.removesuffix(".png")


def test_price_history_and_stock_sheets_match_the_database(workbook: openpyxl.Workbook, scenario: Any) -> None:
    violated = {scenario.builder.ids[k]: k for k in ("l1", "l3", "l4", "l5")}
    with session_scope(scenario.engine) as session:
        observed = session.execute(
            select(Observation.listing_id, Observation.price)
            .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
            .where(Observation.listing_id.in_(violated), CrawlRun.status == RunStatus.FINISHED)
        ).all()
    history = workbook["История цен"]
    header = [c.value for c in history[1]]
    assert header[4] == dt.datetime(2026, 3, 1)
    assert header[-1] == dt.datetime(2026, 3, 10)
    rows = list(history.iter_rows(min_row=2))
    assert len(rows) == len(violated)
    # One price per listing and day (the scenario crawls once a day): the cells hold exactly the observed prices.
    cells = sorted(float(c.value) for row in rows for c in row[4:] if c.value is not None)
    assert cells == sorted(float(price) for _, price in observed)
    tl1003 = next(row for row in rows if row[1].value == "ТехСнаб" and row[2].value == "TL-1003")
    below = [c.value for c in tl1003[4:] if c.fill.fgColor.rgb.endswith("F8CBAD")]
    assert below == [1500, 1500]  # days 9 and 10 are shaded: below the RRP of 2 000
    stock = workbook["Остатки"]
    header = [c.value for c in stock[1]]
    rows = [dict(zip(header, r, strict=True)) for r in stock.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 1
    row = rows[0]
    assert (row["Артикул"], row["Дней без товара"], row["Упущено по плану, шт."]) == ("TL-1002", 3, 30)
    assert row["Упущенные продажи, ₽"] == 150000
    assert "₽" in stock.cell(2, header.index("Упущенные продажи, ₽") + 1).number_format


def test_sheets_have_frozen_headers_filters_and_native_charts(scenario: Any, tmp_path: Path) -> None:
    out = tmp_path / "violations.xlsx"
    write_report(out, "xlsx", scenario.engine, scenario.config, **PERIOD)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [
        "Сводка",
        "Нарушения",
        "История цен",
        "Остатки",
        "Графики",
        "Соблюдение РРЦ",
        "Нарушители по юрлицам",
        "Скидки площадки",
    ]
    assert book["Сводка"].freeze_panes == "A6"
    assert book["Сводка"].auto_filter.ref == "A5:M7"
    for name in ("Нарушения", "Остатки"):
        assert book[name].freeze_panes == "A2", name
        assert book[name].auto_filter.ref, name
    assert book["История цен"].auto_filter.ref == "A1:N5"
    with zipfile.ZipFile(out) as archive:
        charts = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/charts/chart")]
    assert sum("<c:barChart>" in c for c in charts) == 1  # violations per distributor
    assert sum("<c:lineChart>" in c for c in charts) == 4  # price vs RRP, one per violated listing
    assert book["История цен"].freeze_panes == "E2"  # the header and the four text columns stay in view


def test_injected_formula_in_a_product_name_comes_out_as_text(workbook: openpyxl.Workbook, scenario: Any) -> None:
    cells = [c for row in workbook["Нарушения"].iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert [c.value for c in cells] == ["'" + scenario.injection]
    assert all(c.data_type == "s" for c in cells)
    history = [c for row in workbook["История цен"].iter_rows() for c in row if "HYPERLINK" in str(c.value or "")]
    assert history
    assert {c.value for c in history} == {"'" + scenario.injection}


def test_bytes_for_one_distributor_are_a_workbook_with_that_distributor_only(scenario: Any) -> None:
    content = build_report("xlsx", scenario.engine, scenario.config, distributor="techsnab", **PERIOD)
    book = openpyxl.load_workbook(io.BytesIO(content))
    codes = [r[1] for r in book["Сводка"].iter_rows(min_row=6, max_row=6, values_only=True)]
    assert codes == ["techsnab"]
    assert book["Нарушения"].max_row == 1 + 2
    english = build_report("xlsx", scenario.engine, scenario.config, language="en", **PERIOD)
    assert openpyxl.load_workbook(io.BytesIO(english)).sheetnames[0] == "Summary"
