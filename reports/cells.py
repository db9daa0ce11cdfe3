"""Spreadsheet cell safety: text that a spreadsheet would run as a formula is written as plain text."""

from __future__ import annotations

# Excel, LibreOffice and Google Sheets treat a cell starting with one of these as a formula (or DDE call).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    """Prefix text that would start a formula with an apostrophe, the spreadsheet's "this is text" mark."""
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
