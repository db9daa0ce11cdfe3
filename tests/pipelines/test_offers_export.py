"""`pricewatch offers export`: the latest finished offer per listing, RRP in force that day, safe cells."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from crawler.items import RawOffer
from fixtures.pilot.files import PRICE_LIST_CSV
from storage.catalog_import import import_catalog
from storage.engine import make_engine, session_scope

Feed = Callable[..., subprocess.CompletedProcess[str]]
DAY = "2026-11-23T06:00:00+00:00"
EVIL = '=HYPERLINK("http://evil.test";"TL")'


def _price_list(tmp_path: Path, name: str, rrp_tl1003: str) -> Path:
    """The pilot price list with TL-1003's RRP changed (a new version)."""
    rows = list(csv.reader(PRICE_LIST_CSV.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    column = rows[0].index("РРЦ")
    for row in rows:
        if row[0] == "TL-1003":
            row[column] = rrp_tl1003
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, delimiter=";").writerows(rows)
    return path


def _seed(feed: Feed, url: str, make_offer: Callable[..., RawOffer], tmp_path: Path) -> str:
    engine = make_engine(url)
    with session_scope(engine) as session:
        # In force on the day of the observation (valid from 1 Nov), and one that starts later (1 Dec).
        import_catalog(session, _price_list(tmp_path, "nov.csv", "12 590,00"), valid_from=dt.date(2026, 11, 1))
        import_catalog(session, _price_list(tmp_path, "dec.csv", "13 990,00"), valid_from=dt.date(2026, 12, 1))
    engine.dispose()
    tl1003 = {"title": "Конвектор Termoline TL-1003", "vendor_code": "TL-1003"}
    day1 = [
        make_offer(n=0, is_canary=True),
        make_offer(n=1, **tl1003, price="11331.00", quantity=4),
        make_offer(n=2, title=EVIL, vendor_code=None, price="100.00"),
        make_offer(n=3, title="Конвектор электрический Termoline TL-1001 1000 Вт", price=None, stock="out_of_stock"),
    ]
    feed(url, "day-1", day1, stats={f"pricewatch/{k}": 4 for k in ("responses", "product_pages", "offers")})
    # A later crawl that was cancelled part-way: its prices must not show.
    later = [make_offer(n=1, **tl1003, price="1.00", fetched_at="2026-11-24T06:00:00+00:00")]
    feed(url, "day-2", later, fail=True)
    return url


@pytest.fixture
def exported_db(feed: Feed, catalog_db: str, make_offer: Callable[..., RawOffer], tmp_path: Path) -> str:
    """Both databases: one finished crawl, one cancelled crawl after it, three price-list versions."""
    return _seed(feed, catalog_db, make_offer, tmp_path)


@pytest.fixture
def exported_sqlite(feed: Feed, catalog_sqlite: str, make_offer: Callable[..., RawOffer], tmp_path: Path) -> str:
    return _seed(feed, catalog_sqlite, make_offer, tmp_path)


def _export(pricewatch: Callable[..., Any], config_path: Path, db: str, out: Path, *extra: str) -> None:
    outcome = pricewatch("offers", "export", "--config", str(config_path), "--db", db, "--out", str(out), *extra)
    assert outcome.code == 0, outcome.err
    assert "4 offers written" in outcome.out


def test_json_export_holds_the_latest_finished_offer_with_rrp_of_its_day(
    exported_db: str, config_path: Path, tmp_path: Path, pricewatch: Callable[..., Any]
) -> None:
    out = tmp_path / "offers.json"
    _export(pricewatch, config_path, exported_db, out)
    rows = {r["url"].rsplit("/", 1)[1]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    assert rows["1"] | {"url": None} == {
        "distributor": "shop",
        "seller": "Магазин",
        "seller_authorized": True,
        "url": None,
        "title": "Конвектор Termoline TL-1003",
        "vendor_code": "TL-1003",
        "product_name": "Конвектор инверторный Termoline TL-1003 2000 Вт",
        "match_method": "vendor_code",
        "match_confidence": 1.0,
        "match_reason": "по артикулу: TL-1003",
        "price": "11331.00",
        "price_suspect": False,
        "currency": "RUB",
        "rrp": "12590.00",
        "deviation_pct": "-10.00",
        "stock": "in_stock",
        "quantity": 4,
        "observed_at": DAY,
        "crawl_health": "ok",
    }
    assert (rows["2"]["vendor_code"], rows["2"]["match_method"], rows["2"]["rrp"]) == (None, "none", None)
    assert rows["2"]["match_reason"] == "в названии нет бренда"  # why the offer matched nothing
    assert (rows["3"]["price"], rows["3"]["stock"], rows["3"]["rrp"]) == (None, "out_of_stock", "4990.00")


def test_csv_export_is_excel_friendly_and_formula_safe(
    exported_sqlite: str, config_path: Path, tmp_path: Path, pricewatch: Callable[..., Any]
) -> None:
    out = tmp_path / "offers.csv"
    _export(pricewatch, config_path, exported_sqlite, out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    by_url = {r["Ссылка"].rsplit("/", 1)[1]: r for r in rows}
    assert by_url["2"]["Название на сайте"] == "'" + EVIL
    assert (by_url["1"]["Цена"], by_url["1"]["РРЦ"], by_url["1"]["Отклонение, %"]) == ("11331.00", "12590.00", "-10.00")
    assert by_url["1"]["Время (UTC)"] == DAY


def test_xlsx_export_has_money_as_numbers_in_roubles(
    exported_sqlite: str, config_path: Path, tmp_path: Path, pricewatch: Callable[..., Any]
) -> None:
    out = tmp_path / "offers.xlsx"
    _export(pricewatch, config_path, exported_sqlite, out)
    sheet = load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    first = next(r for r in rows if str(r["Ссылка"].value).endswith("/1"))
    assert first["Цена"].value == pytest.approx(11331.0)
    assert Decimal(str(first["Цена"].value)) == Decimal("11331")
    assert "₽" in first["Цена"].number_format
    assert first["РРЦ"].value == pytest.approx(12590.0)
    assert first["Время (UTC)"].value == dt.datetime(2026, 11, 23, 6, 0)
    evil = next(r for r in rows if str(r["Ссылка"].value).endswith("/2"))
    assert evil["Название на сайте"].value == "'" + EVIL
    assert evil["Название на сайте"].data_type == "s"


def test_export_refuses_an_unknown_format(
    catalog_sqlite: str, config_path: Path, tmp_path: Path, pricewatch: Callable[..., Any]
) -> None:
    outcome = pricewatch(
        "offers", "export", "--config", str(config_path), "--db", catalog_sqlite, "--out", str(tmp_path / "x.txt")
    )
    assert outcome.code == 2
    assert outcome.err.startswith("error: ")
    assert "x.txt" in outcome.err
