"""RRP price-list import on SQLite and PostgreSQL: exact Decimals, versions, no-op re-import, bad files refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from crawler.errors import UserError
from storage.catalog_import import CatalogImport, import_catalog
from storage.engine import session_scope
from storage.models import Price, PriceList, Product, ProductGtin
from storage.queries.catalog import current_prices

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "fixtures" / "samples" / "pricelist_ru.csv"
NBSP = "\u00a0"


def load(engine: Engine, path: Path, **kwargs: object) -> CatalogImport:
    with session_scope(engine) as session:
        return import_catalog(session, path, **kwargs)  # type: ignore[arg-type]


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Product, ProductGtin, PriceList, Price)
        }


def catalog(engine: Engine, on: dt.date | None = None) -> dict[str, tuple[Decimal | None, ...]]:
    with session_scope(engine) as session:
        return {
            e.vendor_code: (e.rrp, e.map_price, e.dealer_price) for e in current_prices(session, on or dt.date.today())
        }


def csv_file(tmp_path: Path, lines: list[str], name: str = "prices.csv", encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / name
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


def test_russian_csv_export_loads_every_row_with_exact_decimals(engine: Engine) -> None:
    result = load(engine, SAMPLE, valid_from=dt.date(2026, 2, 1))

    assert (result.rows, result.new_products, result.updated_products, result.gtins_added) == (7, 7, 0, 7)
    assert result.version == 1
    assert result.warnings == []
    assert result.name == "pricelist_ru"
    prices = catalog(engine, dt.date(2026, 2, 1))
    assert prices == {
        "TL-1001": (Decimal("7990.00"), Decimal("7590.00"), Decimal("5600.00")),
        "TL-1002": (Decimal("2490.50"), None, Decimal("1740.35")),
        "TL-1003": (Decimal("12990.00"), Decimal("12490.00"), Decimal("9093.00")),
        "TL-2001": (Decimal("3290.00"), None, Decimal("2303.00")),
        "TL-2002": (Decimal("1990.90"), None, None),
        "TL-3001": (Decimal("5490.00"), Decimal("5190.00"), Decimal("3843.00")),
        "TL-3002": (Decimal("14990.00"), None, Decimal("10493.00")),
    }
    assert all(isinstance(v, Decimal) for row in prices.values() for v in row if v is not None)
    with session_scope(engine) as session:
        product = session.scalars(select(Product).where(Product.vendor_code == "TL-2002")).one()
        assert product.name == 'Вентилятор настольный Термолайн ВН-20 "Бриз"'
        assert (product.vendor_code_norm, product.category, product.brand) == ("TL2002", "Вентиляторы", "Термолайн")
        gtins = dict(session.execute(select(ProductGtin.gtin, Product.vendor_code).join(Product)).tuples().all())
    assert gtins["04006381333931"] == gtins["05901234123457"] == "TL-1002"  # two EANs in one cell
    assert gtins["00036000291452"] == "TL-1003"  # UPC-A
    assert gtins["00000073513537"] == "TL-2001"  # EAN-8


def test_the_same_file_again_is_a_no_op(engine: Engine) -> None:
    first = load(engine, SAMPLE)
    before = counts(engine)
    again = load(engine, SAMPLE, name="другое имя", valid_from=dt.date(2030, 1, 1))
    assert again.already_imported
    assert (again.price_list_id, again.version, again.name) == (first.price_list_id, 1, "pricelist_ru")
    assert counts(engine) == before


def test_a_changed_file_is_a_new_version_and_updates_products(engine: Engine, tmp_path: Path) -> None:
    load(engine, SAMPLE, valid_from=dt.date(2026, 2, 1))
    march = csv_file(
        tmp_path,
        [
            "Артикул;Наименование;EAN;Категория;РРЦ",
            f"TL-1001;Масляный радиатор ОР-9 (новая упаковка);4607004650017;Обогреватели;8{NBSP}490,00",
            "TL-4001;Тепловая завеса ТЗ-3;;Завесы;21 990",
            "ТL 1002;Тепловентилятор Термолайн ТВ-2 «Комфорт»;;Обогреватели;2 490,50",  # Cyrillic Т, a space
        ],
    )
    result = load(engine, march, name="Март", valid_from=dt.date(2026, 3, 1))

    assert (result.version, result.rows, result.new_products, result.updated_products) == (2, 3, 1, 1)
    assert result.gtins_added == 0
    assert catalog(engine, dt.date(2026, 3, 15))["TL-1001"][0] == Decimal("8490.00")
    assert catalog(engine, dt.date(2026, 2, 15))["TL-1001"][0] == Decimal("7990.00")  # February's version still there
    assert catalog(engine, dt.date(2026, 2, 15))["TL-4001"] == (None, None, None)  # not priced before March
    assert catalog(engine, dt.date(2026, 3, 15))["TL-2001"][0] == Decimal("3290.00")  # not in March: February holds
    with session_scope(engine) as session:
        tl1002 = session.scalars(select(Product).where(Product.vendor_code_norm == "TL1002")).one()
        assert tl1002.vendor_code == "TL-1002"  # one product, whatever the spelling
        assert tl1002.brand == "Термолайн"  # the March file has no brand column: brands stay
        tl4001 = session.scalars(select(Product).where(Product.vendor_code == "TL-4001")).one()
        assert (tl4001.name, tl4001.category, tl4001.brand) == ("Тепловая завеса ТЗ-3", "Завесы", None)
        assert session.scalar(select(func.count()).select_from(Product)) == 8


def test_wrong_check_digit_is_a_warning_naming_the_row(engine: Engine, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        [
            "Артикул;Наименование;Штрихкод;РРЦ",
            "TL-1001;Радиатор;4607004650018;7990",
            "TL-1002;Вентилятор;4006381333931; 2490",
            "TL-1003;Конвектор;нет;12990",
        ],
    )
    result = load(engine, path)
    assert result.warnings == [
        "prices.csv: row 2, column Штрихкод: EAN '4607004650018': wrong check digit; imported without it",
        "prices.csv: row 4, column Штрихкод: EAN 'нет': not an EAN/GTIN; imported without it",
    ]
    assert (result.rows, result.gtins_added) == (3, 1)
    assert counts(engine)["product_gtins"] == 1


def test_formula_looking_text_is_stored_as_plain_text(engine: Engine, tmp_path: Path) -> None:
    path = csv_file(tmp_path, ["SKU;Name;RRP", 'TL-1;"=HYPERLINK(""http://evil.example"",""x"")";100'])
    load(engine, path)
    with session_scope(engine) as session:
        assert session.scalar(select(Product.name)) == '=HYPERLINK("http://evil.example","x")'


def test_xlsx_with_title_rows_numeric_cells_and_several_ean_columns(engine: Engine, tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "РРЦ"
    ws.append(["Прайс-лист Термолайн"])
    ws.append([])
    ws.append(["Артикул", "Наименование", "EAN", "EAN 2", "РРЦ", "Дилерская цена"])
    ws.append(["TL-1001", "Радиатор", 4607004650017, None, 7990, 5600.35])
    ws.append(["TL-1002", "Вентилятор", "4006381333931", 5901234123457, 2490.5, 1743.35])
    ws.append([1003, "Конвектор", None, None, "12 990,00", None])  # a vendor code typed as a number
    path = tmp_path / "prices.xlsx"
    book.save(path)

    result = load(engine, path)
    assert (result.rows, result.gtins_added, result.warnings) == (3, 3, [])
    assert catalog(engine) == {
        "TL-1001": (Decimal("7990.00"), None, Decimal("5600.35")),
        "TL-1002": (Decimal("2490.50"), None, Decimal("1743.35")),
        "1003": (Decimal("12990.00"), None, None),
    }


def test_cp1251_tab_file_with_explicit_column_mapping(engine: Engine, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        ["Код\tТовар\tЦена розн.\tЦена опт", "TL-1\tОбогреватель\t1 990,00\t1 500,00"],
        encoding="cp1251",
    )
    result = load(engine, path, mapping=["vendor_code=Код", "rrp=Цена розн.", "dealer=цена  опт"])
    assert result.rows == 1
    assert catalog(engine) == {"TL-1": (Decimal("1990.00"), None, Decimal("1500.00"))}


HEADER = "Артикул;Наименование;EAN;РРЦ"
BAD_FILES = {
    "missing-column": (
        ["Артикул;Наименование;Цена", "TL-9;Вентилятор;100"],
        "bad.csv: row 1: missing required column rrp",
    ),
    "unparseable-price": (
        [HEADER, "TL-9;Вентилятор;;990", "TL-10;Обогреватель;;по запросу"],
        "bad.csv: row 3, column РРЦ: not a price: 'по запросу'",
    ),
    "zero-price": ([HEADER, "TL-9;Вентилятор;;0,00"], "bad.csv: row 2, column РРЦ: zero price"),
    "absurd-price": ([HEADER, "TL-9;Вентилятор;;990 000 000"], "bad.csv: row 2, column РРЦ: implausible price"),
    "empty-price": ([HEADER, "TL-9;Вентилятор;4607004650017;"], "bad.csv: row 2, column РРЦ: empty price"),
    "duplicate-sku": (
        [HEADER, "TL-9;Вентилятор;;990", "TL-10;Обогреватель;;1990", "tl 9;Вентилятор 2;;990"],
        "bad.csv: row 4, column Артикул: duplicate SKU 'tl 9', already on row 2",
    ),
    "empty-sku": ([HEADER, ";Вентилятор;;990"], "bad.csv: row 2, column Артикул: empty SKU"),
    "gtin-twice-in-file": (
        [HEADER, "TL-9;Вентилятор;4006381333931;990", "TL-10;Обогреватель;4006381333931;1990"],
        "bad.csv: row 3, column EAN: EAN 4006381333931 of 'TL-10' is also on row 2 ('TL-9')",
    ),
    "gtin-of-another-product": (
        [HEADER, "TL-9;Вентилятор;4607004650017;990"],
        "bad.csv: row 2, column EAN: EAN 4607004650017 of 'TL-9' already belongs to product 'TL-1001'",
    ),
    "header-only": ([HEADER], "bad.csv: no data rows under the header on row 1"),
    "too-long-name": ([HEADER, "TL-9;" + "Ы" * 513 + ";;990"], "row 2, column Наименование: longer than 512"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_refused_whole_with_row_and_column(engine: Engine, tmp_path: Path, case: str) -> None:
    load(engine, SAMPLE)
    before = counts(engine)
    lines, message = BAD_FILES[case]
    # Good rows first: a partial write would show in the counts.
    path = csv_file(tmp_path, lines, name="bad.csv")
    with pytest.raises(UserError) as err:
        load(engine, path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "bad.csv: file is empty"),
        ("Артикул;РРЦ\nTL-1;価格\n".encode("shift_jis"), "bad.csv: not UTF-8 or cp1251"),
    ],
    ids=["empty", "wrong-encoding"],
)
def test_unreadable_file_is_refused_and_nothing_written(
    engine: Engine, tmp_path: Path, data: bytes, message: str
) -> None:
    load(engine, SAMPLE)
    before = counts(engine)
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(UserError, match=message):
        load(engine, path)
    assert counts(engine) == before
