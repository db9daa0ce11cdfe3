"""The CSV report: BOM, fixed English columns, exact decimals, escaped formulas; a BI and an Excel-ru dialect."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from reports.output import write_report

PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-10"}


def _rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"), newline=""), delimiter=delimiter))


def test_one_row_per_violation_with_exact_figures(scenario: Any, tmp_path: Path) -> None:
    out = tmp_path / "violations.csv"
    write_report(out, "csv", scenario.engine, scenario.config, **PERIOD)
    rows = _rows(out)
    by_key = {(r["distributor_code"], r["vendor_code"], r["rule"]): r for r in rows}
    assert set(by_key) == {
        ("techsnab", "TL-1001", "dumping"),
        ("techsnab", "TL-1003", "dumping"),
        ("market", "TL-1001", "parallel_import"),
        ("market", "TL-1002", "dumping"),
    }
    tl1001 = by_key[("techsnab", "TL-1001", "dumping")]
    assert (tl1001["rrp"], tl1001["price"], tl1001["deviation_pct"]) == ("11000.00", "9000.00", "-18.18")
    assert (tl1001["days_in_violation"], tl1001["repeat_offences"], tl1001["status"]) == ("4", "1", "resolved")
    assert tl1001["first_seen"] == "2026-03-03T06:05:00+03:00"
    grey = by_key[("market", "TL-1001", "parallel_import")]
    assert (grey["seller_authorized"], grey["signals"]) == ("false", "unauthorized_seller")
    shop = by_key[("market", "TL-1002", "dumping")]
    shot = tmp_path / shop["screenshot_file"]
    assert shot.is_file()
    assert shot.name == shop["screenshot_sha256"] + ".png"
    assert shop["evidence_captured_at_utc"] == "2026-03-04T09:50:00+00:00"
    # The summary's average comes from these rows: BI tools can recompute it.
    techsnab = [Decimal(r["deviation_pct"]) for r in rows if r["distributor_code"] == "techsnab"]
    expected_avg = scenario.expected["techsnab"]["avg_deviation_pct"]
    assert (sum(techsnab) / len(techsnab)).quantize(Decimal("0.01")) == expected_avg


def test_injected_formula_is_escaped(scenario: Any, tmp_path: Path) -> None:
    out = tmp_path / "violations.csv"
    write_report(out, "csv", scenario.engine, scenario.config, distributor="techsnab", **PERIOD)
    names = [r["product_name"] for r in _rows(out)]
    assert "'" + scenario.injection in names
    assert scenario.injection not in names


def test_columns_do_not_change_with_the_report_language(scenario: Any, tmp_path: Path) -> None:
    ru, en = tmp_path / "ru.csv", tmp_path / "en.csv"
    write_report(ru, "csv", scenario.engine, scenario.config, language="ru", **PERIOD)
    write_report(en, "csv", scenario.engine, scenario.config, language="en", **PERIOD)
    assert ru.read_bytes() == en.read_bytes()


def test_the_excel_ru_dialect_has_semicolons_decimal_commas_and_local_times(scenario: Any, tmp_path: Path) -> None:
    bi, ru = tmp_path / "bi.csv", tmp_path / "ru.csv"
    write_report(bi, "csv", scenario.engine, scenario.config, **PERIOD)
    write_report(ru, "csv", scenario.engine, scenario.config, csv_dialect="excel-ru", **PERIOD)
    assert ru.read_bytes().splitlines()[0].count(b";") == bi.read_bytes().splitlines()[0].count(b",")
    by_key = {(r["distributor_code"], r["vendor_code"], r["rule"]): r for r in _rows(ru, delimiter=";")}
    tl1001 = by_key[("techsnab", "TL-1001", "dumping")]
    assert (tl1001["rrp"], tl1001["price"], tl1001["deviation_pct"]) == ("11000,00", "9000,00", "-18,18")
    assert tl1001["first_seen"] == "03.03.2026 06:05:00"
    assert by_key[("market", "TL-1002", "dumping")]["evidence_captured_at_utc"] == "04.03.2026 09:50:00"
    assert [r["alert_id"] for r in _rows(ru, delimiter=";")] == [r["alert_id"] for r in _rows(bi)]
