"""Rows out to a file a person opens: CSV (Excel-friendly), JSON or XLSX, typed columns, formula-safe text."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from crawler.errors import UserError
from pricewatch.cli.common import plain
from reports.cells import escape_formula

Kind = Literal["text", "money", "number", "int", "datetime"]
FORMATS = ("csv", "json", "xlsx")
RUBLE_FORMAT = '#,##0.00 "₽"'
MONEY_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    kind: Kind = "text"
    width: int = 14


def format_from_path(path: Path, fmt: str | None) -> str:
    """The format asked for, else the one the file name ends with."""
    chosen = fmt or path.suffix.lower().lstrip(".")
    if chosen not in FORMATS:
        raise UserError(f"{path}: cannot tell the format from the name; use .csv, .json or .xlsx (or --format)")
    return chosen


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = plain(value)
    return text if isinstance(text, str) else str(text)


def write_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Col], path: Path, fmt: str) -> None:
    """Write rows, whole or not at all (a temporary file renamed into place); money stays exact (Decimal
    strings in CSV/JSON, numbers with a money format in XLSX)."""
    if not path.parent.is_dir():
        raise UserError(f"--out {path}: folder {path.parent} does not exist")
    partial = path.with_name(f".{path.name}.partial")
    try:
        if fmt == "json":
            data = [{c.key: plain(row.get(c.key)) for c in columns} for row in rows]
            partial.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        elif fmt == "csv":
            _write_csv(rows, columns, partial)
        else:
            _write_xlsx(rows, columns, partial)
        partial.replace(path)
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)


def _write_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[Col], path: Path) -> None:
    # `;` and a BOM: what Excel with Russian regional settings opens as columns, in UTF-8.
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow([c.header for c in columns])
        for row in rows:
            cells = []
            for c in columns:
                text = _text(row.get(c.key))
                cells.append(escape_formula(text) if c.kind == "text" else text)
            writer.writerow(cells)


def _write_xlsx(rows: Sequence[Mapping[str, Any]], columns: Sequence[Col], path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    try:
        sheet = book.add_worksheet()
        bold = book.add_format({"bold": True})
        formats = {
            "money_rub": book.add_format({"num_format": RUBLE_FORMAT}),
            "money": book.add_format({"num_format": MONEY_FORMAT}),
            "number": book.add_format({"num_format": "0.00"}),
            "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        }
        for col, c in enumerate(columns):
            sheet.write_string(0, col, c.header, bold)
            sheet.set_column(col, col, c.width)
        for r, row in enumerate(rows, start=1):
            for col, c in enumerate(columns):
                _write_cell(sheet, (r, col), c, row, formats)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, len(rows), len(columns) - 1)
    finally:
        book.close()


def _write_cell(sheet: Any, at: tuple[int, int], c: Col, row: Mapping[str, Any], formats: Mapping[str, Any]) -> None:
    r, col = at
    value = row.get(c.key)
    if value is None:
        sheet.write_blank(r, col, None)
    elif c.kind == "money" and isinstance(value, Decimal):
        # A spreadsheet cell is a binary float; the file's number shows the exact cents.
        fmt = formats["money_rub"] if row.get("currency") in (None, "RUB") else formats["money"]
        sheet.write_number(r, col, float(value), fmt)
    elif c.kind == "number" and isinstance(value, Decimal | float | int):
        sheet.write_number(r, col, float(value), formats["number"])
    elif c.kind == "int" and isinstance(value, int):
        sheet.write_number(r, col, value)
    elif c.kind == "datetime" and isinstance(value, dt.datetime):
        # Excel has no time zones: the UTC wall time, as the header says.
        sheet.write_datetime(r, col, value.astimezone(dt.UTC).replace(tzinfo=None), formats["datetime"])
    else:
        sheet.write_string(r, col, escape_formula(_text(value)))
