"""Sales-plan import: quantity per distributor, SKU and month from a CSV/XLSX file, all or nothing.

Long format (one row per distributor, SKU and month) or wide format (one column per month).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.errors import UserError
from storage.codes import normalize_vendor_code
from storage.queries.catalog import products_by_code
from storage.queries.plans import PlanKey, write_plan
from storage.queries.sellers import sync_distributors
from storage.tabular import MAX_BYTES, Cell, Column, Header, Row, cell_text, read_header

DISTRIBUTOR = Column(
    "distributor",
    ("Дистрибьютор", "Код дистрибьютора", "Дистрибутор", "Партнер", "Партнёр", "distributor", "distributor code"),
    required=True,
)
VENDOR_CODE = Column("vendor_code", ("Артикул", "SKU", "Код товара", "Модель", "vendor code", "article"), required=True)
MONTH = Column("month", ("Месяц", "Период", "Дата", "month", "period", "date"))
QUANTITY = Column("quantity", ("Количество", "Кол-во", "План", "План, шт", "quantity", "qty", "plan", "units"))
COLUMNS = (DISTRIBUTOR, VENDOR_CODE, MONTH, QUANTITY)

_MONTH_NAMES = {
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "май": 5, "мая": 5, "июн": 6, "июл": 7, "авг": 8, "сен": 9,
    "окт": 10, "ноя": 11, "дек": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7,
    "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_YEAR_WORD = re.compile(r"\s*(г\.?|года?)$")
MAX_QUANTITY = 10_000_000  # units of one SKU a month at one distributor; more is a typo, and overflows the column


@dataclass
class PlanImport:
    file: str
    rows: int
    entries: int
    inserted: int
    replaced: int
    distributors: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_month(value: Cell) -> dt.date:
    """A month in any usual spelling → its first day: 2026-01, 01.2026, 15.01.2026, «январь 2026», Jan 2026, a date."""
    if isinstance(value, dt.datetime | dt.date):
        return dt.date(value.year, value.month, 1)
    text = _YEAR_WORD.sub("", cell_text(value).casefold().replace("ё", "е").strip("«»\"' ")).strip()
    year = month = None
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})(-\d{1,2}([t ].*)?)?", text):
        year, month = int(m[1]), int(m[2])
    elif m := re.fullmatch(r"(\d{1,2}[./])?(\d{1,2})[./](\d{4})", text):
        year, month = int(m[3]), int(m[2])
    elif m := re.fullmatch(r"([a-zа-я]{3,})\.?[\s,]*(\d{4})", text):
        month, year = _MONTH_NAMES.get(m[1][:3]), int(m[2])
    if year is None or month is None or not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValueError(f"not a month: {cell_text(value)!r} (expected e.g. 2026-01, 01.2026 or «январь 2026»)")
    return dt.date(year, month, 1)


def parse_quantity(value: Cell) -> int | None:
    """A whole, non-negative number of units; None when the cell is empty."""
    if isinstance(value, bool | dt.date | dt.time | dt.timedelta):
        raise ValueError(f"not a quantity: {cell_text(value)!r}")
    text = re.sub(r"[\s\u00a0\u202f\u2009]+", "", cell_text(value)).removesuffix("шт.").removesuffix("шт")
    if not text:
        return None
    try:
        number = Decimal(text.replace(",", "."))
    except ArithmeticError:
        raise ValueError(f"not a quantity: {cell_text(value)!r}") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"not a whole number of units: {cell_text(value)!r}")
    if number < 0:
        raise ValueError(f"negative quantity: {cell_text(value)!r}")
    if number > MAX_QUANTITY:
        raise ValueError(f"implausible quantity {cell_text(value)!r} (over {MAX_QUANTITY:,})")
    return int(number)


def import_plan(
    session: Session,
    path: str | Path,
    config: Config,
    *,
    mapping: Sequence[str] = (),
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> PlanImport:
    """Load a sales plan in the caller's transaction, replacing the same (distributor, product, month) keys."""
    file = Path(path)
    header = read_header(file, COLUMNS, mapping=mapping, sheet=sheet, max_bytes=max_bytes)
    month_columns = _month_columns(header)
    distributor_ids = sync_distributors(session, config)
    distributors = _distributor_lookup(config, distributor_ids)
    products = {code: p.id for code, p in products_by_code(session).items()}
    if not products:
        raise UserError(f"{header.source}: the catalog is empty; import a price list first (pricewatch catalog import)")

    quantities: dict[PlanKey, int] = {}
    seen_at: dict[PlanKey, int] = {}
    rows = 0
    for row in header.data:
        cells = _row_entries(header, row, month_columns)
        if cells is None:
            continue
        rows += 1
        distributor_id = _lookup(
            header, row, "distributor", distributors, what="distributor", hint=", ".join(config.codes())
        )
        product_id = _lookup(header, row, "vendor_code", products, what="SKU (not in the catalog)", hint=None)
        for month, quantity in cells:
            key = (distributor_id, product_id, month)
            earlier = seen_at.setdefault(key, row.number)
            if earlier != row.number:
                raise UserError(
                    f"{header.source}: row {row.number}: the same distributor, SKU and month "
                    f"{month:%Y-%m} as row {earlier}"
                )
            quantities[key] = quantity
    if not quantities:
        raise UserError(f"{header.source}: no plan quantities under the header on row {header.row}")
    inserted, replaced = write_plan(session, quantities)
    codes = {i: c for c, i in distributor_ids.items()}
    return PlanImport(
        file=str(file),
        rows=rows,
        entries=len(quantities),
        inserted=inserted,
        replaced=replaced,
        distributors=sorted({codes[k[0]] for k in quantities}),
        months=sorted({f"{k[2]:%Y-%m}" for k in quantities}),
    )


def _month_columns(header: Header) -> dict[int, dt.date]:
    """Wide format: column index → month. Empty for the long format (month and quantity columns)."""
    has_month, has_quantity = "month" in header.columns, "quantity" in header.columns
    if has_month and has_quantity:
        return {}
    taken = {i for indexes in header.columns.values() for i in indexes}
    months: dict[int, dt.date] = {}
    for index, title in enumerate(header.titles):
        if index in taken or not title:
            continue
        try:
            months[index] = parse_month(title)
        except ValueError:
            continue
    if not months:
        missing = "month" if not has_month else "quantity"
        raise UserError(
            f"{header.source}: row {header.row}: missing required column {missing} "
            f"(or one column per month, titled like 2026-01 or «январь 2026»)"
        )
    return months


def _row_entries(header: Header, row: Row, month_columns: dict[int, dt.date]) -> list[tuple[dt.date, int]] | None:
    """The (month, quantity) pairs of a row; None for a row without distributor and SKU."""
    keys = [row.get(i) for name in ("distributor", "vendor_code") for i in header.columns[name]]
    if all(cell_text(v) == "" for v in keys):
        return None
    entries: list[tuple[dt.date, int]] = []
    if month_columns:
        for index, month in month_columns.items():
            quantity = _quantity(header, row, index)
            if quantity is not None:
                entries.append((month, quantity))
        return entries
    month_index, quantity_index = header.columns["month"][0], header.columns["quantity"][0]
    try:
        month = parse_month(row.get(month_index))
    except ValueError as exc:
        raise UserError(f"{header.where(row, month_index)}: {exc}") from None
    quantity = _quantity(header, row, quantity_index)
    if quantity is None:
        raise UserError(f"{header.where(row, quantity_index)}: empty quantity")
    return [(month, quantity)]


def _quantity(header: Header, row: Row, index: int) -> int | None:
    try:
        return parse_quantity(row.get(index))
    except ValueError as exc:
        raise UserError(f"{header.where(row, index)}: {exc}") from None


def _distributor_lookup(config: Config, ids: dict[str, int]) -> dict[str, int]:
    """Distributors by code or by name, case-insensitively."""
    out = {d.name.casefold(): ids[d.code] for d in config.distributors}
    out.update({d.code.casefold(): ids[d.code] for d in config.distributors})
    return out


def _lookup(header: Header, row: Row, name: str, known: dict[str, int], *, what: str, hint: str | None) -> int:
    index = header.columns[name][0]
    raw = cell_text(row.get(index))
    key = normalize_vendor_code(raw) if name == "vendor_code" else raw.casefold()
    if not raw:
        raise UserError(f"{header.where(row, index)}: empty {name.replace('_', ' ')}")
    found = known.get(key)
    if found is None:
        known_hint = f" (known: {hint})" if hint else ""
        raise UserError(f"{header.where(row, index)}: unknown {what} {raw!r}{known_hint}")
    return found
