"""`pricewatch catalog import` / `catalog list` through the CLI on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import Pricewatch
from tests.support.services import REPO

SAMPLE = REPO / "fixtures" / "samples" / "pricelist_ru.csv"


def test_import_prints_a_summary_and_list_shows_current_rrp(pricewatch: Pricewatch, db_url: str) -> None:
    args = ("catalog", "import", str(SAMPLE), "--db", db_url, "--valid-from", "01.02.2026")
    result = pricewatch(*args, "--format", "json")
    assert (result.code, result.err) == (0, "")
    summary = json.loads(result.out)[0]
    assert {k: summary[k] for k in ("rows", "new_products", "version", "valid_from", "name")} == {
        "rows": 7,
        "new_products": 7,
        "version": 1,
        "valid_from": "2026-02-01",
        "name": "pricelist_ru",
    }

    listing = pricewatch("catalog", "list", "--db", db_url, "--on", "2026-02-01", "--format", "json")
    products = {p["vendor_code"]: p for p in json.loads(listing.out)}
    assert len(products) == 7
    assert products["TL-1002"]["rrp"] == "2490.50"  # money as decimal strings, never floats
    assert products["TL-1002"]["dealer_price"] == "1740.35"
    assert products["TL-1002"]["gtins"] == ["04006381333931", "05901234123457"]

    table = pricewatch("catalog", "list", "--db", db_url, "--on", "2026-02-01")
    assert "TL-3002" in table.out
    # In the pilot config's language (Russian): headers in words, money as the messages write it.
    assert "РРЦ" in table.out
    assert "артикул" in table.out
    assert "14 990 ₽" in table.out
    assert "2 490,50 ₽" in table.out
    assert "4006381333931, 5901234123457" in table.out


def test_reimport_says_nothing_changed(pricewatch: Pricewatch, sqlite_url: str) -> None:
    first = pricewatch("catalog", "import", str(SAMPLE), "--db", sqlite_url)
    assert first.code == 0
    assert "pricelist_ru.csv: загружен" in first.out  # the table's title, in the config's language
    again = pricewatch("catalog", "import", str(SAMPLE), "--db", sqlite_url)
    assert again.code == 0
    assert "already imported as price list #1 (version 1" in again.out
    assert "nothing changed" in again.out


def test_ean_warnings_go_to_stderr(pricewatch: Pricewatch, sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("SKU;Name;EAN;RRP\nTL-1;Fan;4006381333932;100\n", encoding="utf-8")
    result = pricewatch("catalog", "import", str(path), "--db", sqlite_url, "--format", "json")
    assert result.code == 0
    assert result.err == (
        "warning: prices.csv: row 2, column EAN: EAN '4006381333932': wrong check digit; imported without it\n"
    )
    assert json.loads(result.out)[0]["warnings"] == [result.err.removeprefix("warning: ").strip()]


def test_bad_file_is_one_error_line_and_exit_2(pricewatch: Pricewatch, sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("Артикул;Наименование;РРЦ\nTL-1;Вентилятор;990\nTL-2;Обогреватель;дорого\n", encoding="utf-8")
    result = pricewatch("catalog", "import", str(path), "--db", sqlite_url)
    assert (result.code, result.out) == (2, "")
    assert result.err == "error: prices.csv: row 3, column РРЦ: not a price: 'дорого'\n"
    listing = pricewatch("catalog", "list", "--db", sqlite_url, "--format", "json")
    assert json.loads(listing.out) == []
