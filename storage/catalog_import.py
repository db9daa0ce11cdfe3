"""RRP price-list import: a CSV/XLSX file becomes a new dated price-list version, all or nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler.errors import UserError
from storage.codes import display_gtin, gtin_check_ok, normalize_gtin, normalize_vendor_code
from storage.models import PriceList
from storage.queries import catalog as q
from storage.tabular import (
    MAX_BYTES,
    Column,
    Header,
    Row,
    Sheet,
    cell_text,
    locate_header,
    parse_mapping,
    parse_money,
    read_table,
)

VENDOR_CODE = Column(
    "vendor_code",
    (
        "Артикул",
        "Артикул производителя",
        "Код товара",
        "Модель",
        "SKU",
        "vendor code",
        "article",
        "part number",
        "model",
    ),
    required=True,
)
NAME = Column(
    "name",
    ("Наименование", "Название", "Наименование товара", "Товар", "name", "product name", "product", "title"),
    required=True,
)
GTIN = Column(
    "gtin",
    ("EAN", "EAN-13", "EAN-8", "Штрихкод", "Штрих-код", "Штрихкоды", "Штрихкод EAN", "GTIN", "UPC", "barcode"),
    multiple=True,
)
RRP = Column(
    "rrp",
    (
        "РРЦ",
        "Цена РРЦ",
        "Рекомендованная розничная цена",
        "Рекомендуемая розничная цена",
        "Розничная цена",
        "RRP",
        "MSRP",
        "retail price",
        "recommended retail price",
    ),
    required=True,
)
MAP = Column("map", ("МРЦ", "Минимальная розничная цена", "Минимальная цена", "MAP", "minimum advertised price"))
DEALER = Column(
    "dealer",
    ("Дилерская", "Дилерская цена", "Цена дилерская", "Цена дилера", "Оптовая цена", "dealer", "dealer price"),
)
CATEGORY = Column("category", ("Категория", "Группа", "Группа товаров", "Раздел", "category", "group"))
BRAND = Column("brand", ("Бренд", "Марка", "Торговая марка", "Производитель", "brand", "manufacturer"))
COLUMNS = (VENDOR_CODE, NAME, GTIN, RRP, MAP, DEALER, CATEGORY, BRAND)
FIELDS = tuple(c.name for c in COLUMNS)

_LIMITS = {"vendor_code": 128, "name": 512, "category": 256, "brand": 256}
_GTIN_LISTS = re.compile(r"[,;/|\n]+")


@dataclass(frozen=True)
class CatalogRow:
    number: int
    vendor_code: str
    code_norm: str
    name: str
    category: str | None
    brand: str | None
    gtins: dict[str, int]  # GTIN-14 → index of the column it was in
    rrp: Decimal
    map_price: Decimal | None
    dealer_price: Decimal | None


@dataclass
class CatalogImport:
    """What an import did (or, with `already_imported`, that it had nothing to do)."""

    file: str
    sha256: str
    price_list_id: int
    version: int
    name: str
    valid_from: dt.date
    rows: int
    new_products: int = 0
    updated_products: int = 0
    unchanged_products: int = 0
    gtins_added: int = 0
    already_imported: bool = False
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_catalog(
    session: Session,
    path: str | Path,
    *,
    name: str | None = None,
    valid_from: dt.date | None = None,
    mapping: Sequence[str] = (),
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> CatalogImport:
    """Load a price list as a new version in the caller's transaction; the same file again is a no-op.

    Every row is read and checked before anything is written, so a bad file raises UserError and writes nothing.
    """
    file = Path(path)
    columns = parse_mapping(mapping, FIELDS)
    table = read_table(file, sheet=sheet, max_bytes=max_bytes)
    sha = file_sha256(file)
    earlier = q.price_list_by_sha(session, sha)
    if earlier is not None:
        return CatalogImport(
            file=str(file),
            sha256=sha,
            price_list_id=earlier.id,
            version=q.price_list_version(session, earlier.id),
            name=earlier.name,
            valid_from=earlier.valid_from,
            rows=earlier.row_count,
            unchanged_products=earlier.row_count,
            already_imported=True,
        )
    header, rows, warnings = parse_price_list(table, columns)
    summary = CatalogImport(
        file=str(file),
        sha256=sha,
        price_list_id=0,
        version=0,
        name=name or file.stem,
        valid_from=valid_from or dt.date.today(),
        rows=len(rows),
        warnings=warnings,
    )
    _write(session, header, rows, summary)
    return summary


def parse_price_list(
    table: Sheet, mapping: Mapping[str, Sequence[str]] | None = None
) -> tuple[Header, list[CatalogRow], list[str]]:
    """Find the columns and check every row: (header, product rows, warnings); a bad row raises UserError."""
    header = locate_header(table, COLUMNS, mapping)
    warnings: list[str] = []
    rows: list[CatalogRow] = []
    first_row_of_code: dict[str, int] = {}
    first_row_of_gtin: dict[str, tuple[int, str]] = {}
    for row in header.data:
        parsed = _parse_row(header, row, warnings)
        if parsed is None:
            continue
        earlier = first_row_of_code.setdefault(parsed.code_norm, row.number)
        if earlier != row.number:
            raise UserError(
                f"{header.where(row, _index(header, 'vendor_code'))}: duplicate SKU {parsed.vendor_code!r}, "
                f"already on row {earlier}"
            )
        for gtin, index in parsed.gtins.items():
            other_row, other_code = first_row_of_gtin.setdefault(gtin, (row.number, parsed.vendor_code))
            if other_row != row.number:
                raise UserError(
                    f"{header.where(row, index)}: EAN {display_gtin(gtin)} of {parsed.vendor_code!r} "
                    f"is also on row {other_row} ({other_code!r})"
                )
        rows.append(parsed)
    if not rows:
        raise UserError(f"{header.source}: no data rows under the header on row {header.row}")
    return header, rows, warnings


def _index(header: Header, name: str) -> int:
    index = header.first(name)
    assert index is not None, name
    return index


def _text(header: Header, row: Row, name: str) -> str | None:
    index = header.first(name)
    if index is None:
        return None
    value = cell_text(row.get(index))
    limit = _LIMITS.get(name)
    if limit is not None and len(value) > limit:
        raise UserError(f"{header.where(row, index)}: longer than {limit} characters")
    return value or None


def _money(header: Header, row: Row, name: str) -> Decimal | None:
    index = header.first(name)
    if index is None:
        return None
    try:
        return parse_money(row.get(index))
    except ValueError as exc:
        raise UserError(f"{header.where(row, index)}: {exc}") from None


def _parse_row(header: Header, row: Row, warnings: list[str]) -> CatalogRow | None:
    vendor_code = _text(header, row, "vendor_code")
    name = _text(header, row, "name")
    rrp = _money(header, row, "rrp")
    if rrp is None and (vendor_code is None or name is None):
        return None  # a section heading, spacer or footer line ("Обогреватели", "Итого: 7"), not a product
    code_index = _index(header, "vendor_code")
    if vendor_code is None:
        raise UserError(f"{header.where(row, code_index)}: empty SKU")
    code_norm = normalize_vendor_code(vendor_code)
    if not code_norm:
        raise UserError(f"{header.where(row, code_index)}: SKU {vendor_code!r} has no letters or digits")
    if name is None:
        raise UserError(f"{header.where(row, _index(header, 'name'))}: empty name")
    if rrp is None:
        raise UserError(f"{header.where(row, _index(header, 'rrp'))}: empty price")
    map_price = _money(header, row, "map")
    dealer_price = _money(header, row, "dealer")
    for label, other in (("MAP", map_price), ("dealer price", dealer_price)):
        if other is not None and other > rrp:
            warnings.append(f"{header.source}: row {row.number}: {label} {other} is above RRP {rrp}")
    return CatalogRow(
        number=row.number,
        vendor_code=vendor_code,
        code_norm=code_norm,
        name=name,
        category=_text(header, row, "category"),
        brand=_text(header, row, "brand"),
        gtins=_gtins(header, row, warnings),
        rrp=rrp,
        map_price=map_price,
        dealer_price=dealer_price,
    )


def _gtins(header: Header, row: Row, warnings: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index in header.columns.get("gtin", []):
        for raw in split_gtins(cell_text(row.get(index))):
            gtin = normalize_gtin(raw)
            if gtin is None:
                digits = re.sub(r"[\s-]", "", raw)
                why = "wrong check digit" if digits.isdigit() and len(digits) in (8, 12, 13, 14) else "not an EAN/GTIN"
                warnings.append(f"{header.where(row, index)}: EAN {raw!r}: {why}; imported without it")
            else:
                found.setdefault(gtin, index)
    return found


def split_gtins(text: str) -> list[str]:
    """Several EANs in one cell, separated by `,` `;` `/` `|`, new lines or spaces."""
    out: list[str] = []
    for part in _GTIN_LISTS.split(text):
        piece = part.strip().lstrip("'")
        if not piece:
            continue
        if not gtin_check_ok(piece) and len(piece.split()) > 1:
            out.extend(piece.split())
        else:
            out.append(piece)
    return out


def _write(session: Session, header: Header, rows: list[CatalogRow], summary: CatalogImport) -> None:
    """Write the checked rows as a new price-list version and fill in the summary's counts."""
    existing = q.products_by_code(session)
    owners = q.gtin_owners(session)
    _check_gtin_owners(header, rows, existing, owners)
    price_list = _add_price_list(session, summary, len(rows))
    new_rows = [r for r in rows if r.code_norm not in existing]
    product_id = _insert_products(session, new_rows)
    product_id.update({r.code_norm: existing[r.code_norm].id for r in rows if r.code_norm in existing})
    changes = _product_changes(header, rows, existing)
    q.update_products(session, changes)
    gtins = [{"gtin": g, "product_id": product_id[r.code_norm]} for r in rows for g in r.gtins if g not in owners]
    q.insert_gtins(session, gtins)
    q.insert_prices(session, [_price(price_list.id, product_id[r.code_norm], r) for r in rows])
    summary.price_list_id = price_list.id
    summary.version = q.price_list_version(session, price_list.id)
    summary.new_products = len(new_rows)
    summary.updated_products = len(changes)
    summary.unchanged_products = len(rows) - len(new_rows) - len(changes)
    summary.gtins_added = len(gtins)


def _check_gtin_owners(
    header: Header, rows: Sequence[CatalogRow], existing: Mapping[str, q.ProductRow], owners: Mapping[str, int]
) -> None:
    """An EAN of a row that the catalog already gives to another product is an error: it names one product."""
    code_of = {p.id: p.vendor_code for p in existing.values()}
    for row in rows:
        mine = existing[row.code_norm].id if row.code_norm in existing else None
        for gtin, index in row.gtins.items():
            owner = owners.get(gtin)
            if owner is not None and owner != mine:
                raise UserError(
                    f"{header.where(row.number, index)}: EAN {display_gtin(gtin)} of "
                    f"{row.vendor_code!r} already belongs to product {code_of[owner]!r} in the catalog"
                )


def _add_price_list(session: Session, summary: CatalogImport, row_count: int) -> PriceList:
    try:
        return q.add_price_list(
            session,
            name=summary.name,
            valid_from=summary.valid_from,
            source_file=summary.file,
            sha256=summary.sha256,
            row_count=row_count,
        )
    except IntegrityError:
        raise UserError(f"{summary.file}: is being imported by another process right now") from None


def _insert_products(session: Session, new_rows: Sequence[CatalogRow]) -> dict[str, int]:
    """Insert the products the catalog does not have yet; normalized vendor code → new product id."""
    new_ids = q.insert_products(
        session,
        [
            {
                "vendor_code": r.vendor_code,
                "vendor_code_norm": r.code_norm,
                "name": r.name,
                "category": r.category,
                "brand": r.brand,
            }
            for r in new_rows
        ],
    )
    return {r.code_norm: pid for r, pid in zip(new_rows, new_ids, strict=True)}


def _product_changes(
    header: Header, rows: Sequence[CatalogRow], existing: Mapping[str, q.ProductRow]
) -> list[dict[str, Any]]:
    """`{"id": …, field: new value}` for each known product whose name, category or brand the file changes."""
    # A column the file does not have leaves that attribute as it was; an empty cell clears it.
    updatable = ["name", *(f for f in ("category", "brand") if f in header.columns)]
    changes: list[dict[str, Any]] = []
    for r in rows:
        old = existing.get(r.code_norm)
        if old is None:
            continue
        change = {f: getattr(r, f) for f in updatable if getattr(old, f) != getattr(r, f)}
        if change:
            changes.append({"id": old.id, **change})
    return changes


def _price(price_list_id: int, product_id: int, row: CatalogRow) -> dict[str, Any]:
    return {
        "price_list_id": price_list_id,
        "product_id": product_id,
        "rrp": row.rrp,
        "map_price": row.map_price,
        "dealer_price": row.dealer_price,
    }
