"""The violations report as CSV: one row per violation, in one of two dialects.

`bi` (the default) is fixed so BI imports never break: UTF-8 with a byte-order mark (Excel then reads Cyrillic
right), comma-separated, CRLF line ends, English snake_case headers whatever the report language, decimal
points, money as plain decimals, deviation in percent, times ISO 8601 with the config's UTC offset (evidence
times in UTC).

`excel-ru` is for people who double-click the file in Excel with Russian regional settings: `;` between cells
and a decimal comma (what that Excel expects, so it opens in columns with numbers it can add up), and times as
`DD.MM.YYYY HH:MM:SS` in the config's time zone (evidence times in UTC, as the header says). Headers stay the
same in both, so one file can be read by either.

In both, text that a spreadsheet would run as a formula is escaped. Columns are only ever added at the end.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from reports.cells import escape_formula
from reports.data import ReportData, Violation
from reports.labels import ReportTexts

COLUMNS = (
    "alert_id",
    "distributor_code",
    "distributor_name",
    "seller_name",
    "seller_authorized",
    "vendor_code",
    "product_name",
    "category",
    "rule",
    "severity",
    "status",
    "rrp",
    "price",
    "deviation_pct",
    "first_seen",
    "last_seen",
    "days_in_violation",
    "repeat_offences",
    "signals",
    "url",
    "screenshot_file",
    "screenshot_sha256",
    "html_file",
    "html_sha256",
    "evidence_captured_at_utc",
    "region",
    "price_basis",
    "shown_price",
    "seller_price",
    "card_price",
    "tax_id",
    "legal_entity_name",
)


CsvDialectName = Literal["bi", "excel-ru"]
DIALECT_NAMES: tuple[CsvDialectName, ...] = ("bi", "excel-ru")


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str
    decimal_comma: bool
    time_format: str | None  # None: ISO 8601 with the offset


DIALECTS: dict[CsvDialectName, CsvDialect] = {
    "bi": CsvDialect(delimiter=",", decimal_comma=False, time_format=None),
    "excel-ru": CsvDialect(delimiter=";", decimal_comma=True, time_format="%d.%m.%Y %H:%M:%S"),
}


def _cell(value: str | int | bool | Decimal | dt.datetime | None, dialect: CsvDialect) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if dialect.time_format:
            return value.strftime(dialect.time_format)
        return value.isoformat(timespec="seconds")
    if isinstance(value, Decimal):
        return str(value).replace(".", ",") if dialect.decimal_comma else str(value)
    if isinstance(value, int):
        return str(value)
    return escape_formula(value)


def _row(v: Violation, data: ReportData, link_base: Path, dialect: CsvDialect) -> list[str]:
    shot, html = v.screenshot, v.html
    first = shot or html
    captured = first.captured_at.astimezone(dt.UTC) if first else None
    values: list[str | int | bool | Decimal | dt.datetime | None] = [
        v.alert_id,
        v.distributor_code,
        v.distributor_name,
        v.seller_name,
        v.seller_authorized,
        v.vendor_code,
        v.product_name,
        v.category,
        v.rule,
        v.severity,
        v.status,
        v.rrp,
        v.price,
        v.deviation_pct,
        data.period.local(v.first_seen),
        data.period.local(v.last_seen),
        v.days,
        v.repeat_offences,
        " ".join(v.signals),
        v.url,
        shot.link_from(link_base) if shot else None,
        shot.sha256 if shot else None,
        html.link_from(link_base) if html else None,
        html.sha256 if html else None,
        captured,
        v.region,
        v.price_basis,
        v.shown_price,
        v.seller_price,
        v.card_price,
        v.tax_id,
        v.legal_name,
    ]
    return [_cell(value, dialect) for value in values]


def render_csv(data: ReportData, texts: ReportTexts, link_base: Path, dialect_name: CsvDialectName = "bi") -> bytes:
    """`texts` is unused on purpose: columns and values do not change with the report language."""
    del texts
    dialect = DIALECTS[dialect_name]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=dialect.delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_row(v, data, link_base, dialect) for v in data.violations)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
