"""The price and stock parsers against tables of real-world strings (tests/crawler/data/*.tsv)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from crawler.items import StockState
from crawler.parsing.prices import parse_price
from crawler.parsing.stock import from_schema_availability, parse_stock

DATA = Path(__file__).parent / "data"
_ESCAPE = re.compile(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|n|t)")
_ESCAPES = {"n": "\n", "t": "\t"}


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1)) or chr(int(m.group(1)[1:], 16)), text)


def read_table(name: str, columns: int) -> list[object]:
    """Rows of a TAB-separated table as pytest params (id = line number and text); `#` lines are comments."""
    rows: list[object] = []
    for number, line in enumerate((DATA / name).read_text(encoding="utf-8").split("\n"), start=1):
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        assert len(fields) == columns, f"{name}:{number}: {len(fields)} columns, expected {columns}"
        values = [_unescape(fields[0])] + [f or None for f in fields[1:]]
        rows.append(pytest.param(*values, id=f"{number}:{fields[0][:40]}"))
    return rows


@pytest.mark.parametrize(("text", "decimal_separator", "amount", "currency", "flag"), read_table("prices.tsv", 5))
def test_price_table(
    text: str, decimal_separator: str | None, amount: str | None, currency: str | None, flag: str | None
) -> None:
    parsed = parse_price(text, decimal_separator)
    assert (parsed.amount, parsed.currency, parsed.flag) == (
        Decimal(amount) if amount else None,
        currency,
        flag,
    )
    assert parsed.raw == text


@pytest.mark.parametrize(("text", "state", "quantity"), read_table("stock.tsv", 3))
def test_stock_table(text: str, state: str, quantity: str | None) -> None:
    parsed = parse_stock(text)
    assert (parsed.state, parsed.quantity) == (StockState(state), int(quantity) if quantity else None)
    assert parsed.raw == text


@pytest.mark.parametrize(("value", "state"), read_table("availability.tsv", 2))
def test_schema_availability_table(value: str, state: str) -> None:
    assert from_schema_availability(value) is StockState(state)
