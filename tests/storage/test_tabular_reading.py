"""Reading a person's table file: encodings, delimiters, XLSX, limits, headers and money cells."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from crawler.errors import UserError
from storage.tabular import (
    Column,
    cell_text,
    locate_header,
    normalize_header,
    parse_mapping,
    parse_money,
    read_table,
)

RU_ROWS = "Артикул;Наименование;РРЦ\nTL-1001;Обогреватель масляный;12 990,50\nTL-1002;Тепловентилятор;4 490,00\n"
COLUMNS = (
    Column("vendor_code", ("Артикул", "SKU", "vendor code"), required=True),
    Column("name", ("Наименование", "name")),
    Column("gtin", ("EAN", "Штрихкод", "GTIN"), multiple=True),
    Column("rrp", ("РРЦ", "RRP"), required=True),
)


def write(tmp_path: Path, data: bytes, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def cells(path: Path, **kwargs: object) -> list[tuple[int, tuple[object, ...]]]:
    return [(r.number, r.cells) for r in read_table(path, **kwargs).rows]  # type: ignore[arg-type]


EXPECTED = [
    (1, ("Артикул", "Наименование", "РРЦ")),
    (2, ("TL-1001", "Обогреватель масляный", "12 990,50")),
    (3, ("TL-1002", "Тепловентилятор", "4 490,00")),
]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1251", b""), ("utf-16-le", b"\xff\xfe")],
    ids=["utf8", "utf8-bom", "cp1251", "utf16-bom"],
)
def test_each_encoding_reads_the_same_rows(tmp_path: Path, encoding: str, bom: bytes) -> None:
    path = write(tmp_path, bom + RU_ROWS.encode(encoding))
    assert cells(path) == EXPECTED


@pytest.mark.parametrize("delimiter", [";", ",", "\t"], ids=["semicolon", "comma", "tab"])
def test_each_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    lines = [["Артикул", "Наименование", "РРЦ"], ["TL-1001", "Обогреватель, масляный", "12,990.50"]]
    text = "\r\n".join(delimiter.join(f'"{c}"' if delimiter in c else c for c in line) for line in lines)
    rows = cells(write(tmp_path, text.encode()))
    assert rows == [(1, tuple(lines[0])), (2, tuple(lines[1]))]


def test_commas_inside_cells_do_not_fool_the_sniffer(tmp_path: Path) -> None:
    text = "Артикул;Наименование;РРЦ\nTL-1;Вентилятор, 3 скорости, белый;1 290,00\nTL-2;Обогреватель;990\n"
    assert [len(r) for _, r in cells(write(tmp_path, text.encode()))] == [3, 3, 3]


def test_row_numbers_are_file_rows_with_blank_lines_and_multiline_cells(tmp_path: Path) -> None:
    text = 'Прайс-лист\n\nАртикул;Наименование;РРЦ\nTL-1;"две\nстроки";100\n;;\nTL-2;Вентилятор;200\n'
    rows = cells(write(tmp_path, text.encode()))
    assert [n for n, _ in rows] == [1, 3, 4, 7]
    assert rows[2][1][1] == "две\nстроки"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "prices.csv: file is empty"),
        (b" \r\n\t\n", "prices.csv: file is empty"),
        (b";;;\n;;\n", "prices.csv: file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "prices.csv: not a table file (binary content"),
        ("Артикул;Цена\n価格;１００\n".encode("shift_jis"), "prices.csv: not UTF-8 or cp1251"),
        (b"SKU;RRP\nTL-1;\x98\x98\n", "prices.csv: not UTF-8 or cp1251"),  # 0x98 is not in cp1251
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old Excel .xls format"),
    ],
    ids=["empty", "blank", "only-delimiters", "binary", "shift-jis", "undecodable", "xls"],
)
def test_unreadable_files_are_refused_naming_the_file(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(UserError) as err:
        read_table(write(tmp_path, data))
    assert message in str(err.value)


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(UserError, match="is a directory"):
        read_table(tmp_path)


def test_size_and_row_limits(tmp_path: Path) -> None:
    path = write(tmp_path, RU_ROWS.encode())
    with pytest.raises(UserError, match=r"prices.csv: file is too large"):
        read_table(path, max_bytes=50)
    with pytest.raises(UserError, match=r"prices.csv: too many rows \(limit 2\)"):
        read_table(path, max_rows=2)
    assert len(read_table(path, max_rows=3).rows) == 3


def _xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.worksheets[0])
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


def test_xlsx_first_sheet_or_named_sheet_with_typed_cells(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "prices.xlsx",
        {
            "Прайс": [["Прайс-лист Термолайн"], [], ["Артикул", "EAN", "РРЦ"], ["TL-1001", 4006381333931, 12990.5]],
            "Архив": [["SKU", "RRP"], ["TL-9", dt.date(2026, 1, 1)]],
        },
    )
    rows = cells(path)
    assert rows == [
        (1, ("Прайс-лист Термолайн",)),
        (3, ("Артикул", "EAN", "РРЦ")),
        (4, ("TL-1001", 4006381333931, 12990.5)),
    ]
    archive = read_table(path, sheet="Архив")
    assert archive.source == "prices.xlsx [Архив]"
    assert archive.rows[1].cells == ("TL-9", dt.datetime(2026, 1, 1))
    with pytest.raises(UserError, match=r"prices.xlsx: no sheet 'Нет' \(sheets: Прайс, Архив\)"):
        read_table(path, sheet="Нет")


def test_broken_xlsx_and_sheet_option_on_csv_are_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    with pytest.raises(UserError, match=r"broken\.xlsx: not a readable XLSX file"):
        read_table(broken)
    with pytest.raises(UserError, match=r"fake\.xlsx: not a valid XLSX file"):
        read_table(write(tmp_path, RU_ROWS.encode(), "fake.xlsx"))
    with pytest.raises(UserError, match="--sheet applies only to XLSX"):
        read_table(write(tmp_path, RU_ROWS.encode()), sheet="Лист1")


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("12990", "12990.00"),
        ("12990,5", "12990.50"),
        ("12990.50", "12990.50"),
        ("12 990,50", "12990.50"),
        ("12\u00a0990,50", "12990.50"),  # NBSP
        ("12\u202f990,50", "12990.50"),  # narrow NBSP (what Excel/LibreOffice export)
        ("12\u2009990,50", "12990.50"),  # thin space
        ("12.990,50", "12990.50"),
        ("12,990.50", "12990.50"),
        ("1.234.567,89", "1234567.89"),
        ("1,234,567", "1234567.00"),
        ("12.990", "12990.00"),  # a lone dot before 3 digits groups thousands
        ("12 990 ₽", "12990.00"),
        ("12 990 руб.", "12990.00"),
        ("12990р.", "12990.00"),
        ("RUB 990", "990.00"),
        ("0,99", "0.99"),
    ],
)
def test_money_text_variants(text: str, amount: str) -> None:
    assert parse_money(text) == Decimal(amount)


@pytest.mark.parametrize(
    ("value", "amount"),
    [(12990, "12990.00"), (12990.5, "12990.50"), (0.1 + 0.2, "0.30"), (1299.4999999999998, "1299.50")],
)
def test_money_from_xlsx_numbers_has_no_float_artefacts(value: float, amount: str) -> None:
    result = parse_money(value)
    assert result == Decimal(amount)
    assert str(result) == amount


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0", "zero price"),
        ("0,00", "zero price"),
        ("-100", "negative price"),
        ("\u2212100", "negative price"),
        ("100000000,01", "implausible price"),
        ("по запросу", "not a price"),
        ("12,5,0", "not a price"),
        ("12990.505", "not a price"),
        ("1 29 90", "digit groups"),
        ("0.990", "digit groups"),
        (True, "not a price"),
        (dt.date(2026, 1, 1), "not a price"),
    ],
)
def test_money_refusals_say_why(value: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_money(value)  # type: ignore[arg-type]


def test_empty_money_cell_is_none() -> None:
    assert parse_money(None) is None
    assert parse_money("  ") is None


def test_cell_text_shows_what_a_person_sees() -> None:
    assert cell_text(4006381333931.0) == "4006381333931"
    assert cell_text(12.5) == "12.5"
    assert cell_text(None) == ""
    assert cell_text(dt.date(2026, 2, 1)) == "2026-02-01"


def test_header_aliases_ignore_case_spaces_punctuation_and_units(tmp_path: Path) -> None:
    text = "Прайс на февраль;;;\n  АРТИКУЛ ;Наименование;Штрих-код;EAN 2;РРЦ, руб. (с НДС)\nTL-1;Вентилятор;;;100\n"
    header = locate_header(read_table(write(tmp_path, text.encode())), COLUMNS)
    assert header.row == 2
    assert header.columns == {"vendor_code": [0], "name": [1], "gtin": [2, 3], "rrp": [4]}
    assert [r.number for r in header.data] == [3]
    assert header.where(header.data[0], 4) == "prices.csv: row 3, column РРЦ, руб. (с НДС)"
    assert normalize_header("Цена розн., руб") == "ценарознруб"


def test_explicit_mapping_wins_over_aliases(tmp_path: Path) -> None:
    text = "Код;Наименование;РРЦ;Цена розн.\nTL-1;Вентилятор;100;120\n"
    sheet = read_table(write(tmp_path, text.encode()))
    mapping = parse_mapping(["vendor_code=код", "rrp=Цена розн."], [c.name for c in COLUMNS])
    header = locate_header(sheet, COLUMNS, mapping)
    assert header.columns["vendor_code"] == [0]
    assert header.columns["rrp"] == [3]


def test_missing_ambiguous_and_mismapped_columns_are_named(tmp_path: Path) -> None:
    sheet = read_table(write(tmp_path, "Артикул;Наименование;Цена\nTL-1;Вентилятор;100\n".encode()))
    with pytest.raises(UserError) as err:
        locate_header(sheet, COLUMNS)
    assert str(err.value).startswith("prices.csv: row 1: missing required column rrp (РРЦ / RRP)")
    assert "columns found: Артикул, Наименование, Цена" in str(err.value)

    twice = read_table(write(tmp_path, "Артикул;РРЦ;RRP\nTL-1;100;100\n".encode()))
    with pytest.raises(UserError, match=r"row 1: columns РРЦ, RRP all look like rrp; choose one with --map rrp="):
        locate_header(twice, COLUMNS)

    with pytest.raises(UserError, match=r"--map rrp=Цена розн\.: no such column"):
        locate_header(sheet, COLUMNS, {"rrp": ["Цена розн."]})
    with pytest.raises(UserError, match=r"unknown field 'price' \(fields: vendor_code, name, gtin, rrp\)"):
        parse_mapping(["price=Цена"], [c.name for c in COLUMNS])
    with pytest.raises(UserError, match="expected FIELD=HEADER"):
        parse_mapping(["rrp"], [c.name for c in COLUMNS])
