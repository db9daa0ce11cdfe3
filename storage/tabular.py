"""A person's table file (CSV in any usual dialect, or XLSX) read robustly: rows, header columns, money cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from crawler.errors import UserError

Cell = str | int | float | Decimal | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
# One CSV cell: the csv module's own (process-wide) field limit, left at its default. A real cell is a name or a
# price; 128 Ki characters is already a whole page of text, so past it the file is not a table a person made.
MAX_CELL_CHARS = 128 * 1024
_FIELD_LIMIT = "field larger than field limit"  # the csv module's words for a cell over MAX_CELL_CHARS
MAX_PRICE = Decimal(100_000_000)
HEADER_SEARCH_ROWS = 20
_CENT = Decimal("0.01")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
_DELIMITERS = (";", "\t", ",")


@dataclass(frozen=True)
class Row:
    number: int  # 1-based row number in the file (for CSV: the line the row starts on)
    cells: tuple[Cell, ...]

    def get(self, index: int) -> Cell:
        return self.cells[index] if index < len(self.cells) else None


@dataclass(frozen=True)
class Sheet:
    """The non-empty rows of one table; `source` names the file (and sheet) in messages."""

    source: str
    rows: list[Row]


@dataclass(frozen=True)
class Column:
    """A canonical field a reader wants, with the header texts it may go by."""

    name: str
    aliases: tuple[str, ...]
    required: bool = False
    multiple: bool = False  # several columns may hold it (e.g. several EAN columns)


@dataclass(frozen=True)
class Header:
    """Where the header row is and which column index holds each wanted field."""

    source: str
    row: int  # file row number of the header
    titles: tuple[str, ...]
    columns: dict[str, list[int]] = field(default_factory=dict)
    data: list[Row] = field(default_factory=list)  # the rows after the header

    def title(self, index: int) -> str:
        return self.titles[index] if index < len(self.titles) else f"#{index + 1}"

    def where(self, row: Row | int, index: int) -> str:
        """`file: row 7, column РРЦ` for messages."""
        number = row.number if isinstance(row, Row) else row
        return f"{self.source}: row {number}, column {self.title(index)}"

    def first(self, name: str) -> int | None:
        indexes = self.columns.get(name)
        return indexes[0] if indexes else None


# ---------------------------------------------------------------- reading


def read_table(
    path: str | Path,
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> Sheet:
    """Read a CSV (`;`, `,` or tab; UTF-8 with or without BOM, UTF-16 with BOM, or cp1251) or an XLSX sheet."""
    file = Path(path)
    name = file.name
    try:
        size = file.stat().st_size
    except FileNotFoundError:
        raise UserError(f"{file}: file not found") from None
    except OSError as exc:
        raise UserError(f"{file}: cannot read: {exc.strerror}") from None
    if file.is_dir():
        raise UserError(f"{file}: is a directory, not a table file")
    if size > max_bytes:
        raise UserError(f"{name}: file is too large ({size / 2**20:.1f} MB, limit {max_bytes / 2**20:g} MB)")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise UserError(f"{file}: cannot read: {exc.strerror}") from None
    return read_table_bytes(data, name, sheet=sheet, max_rows=max_rows)


def read_table_bytes(data: bytes, name: str, sheet: str | None = None, max_rows: int = MAX_ROWS) -> Sheet:
    """Like `read_table`, for bytes already in memory; `name` is used in messages."""
    if not data.strip():
        raise UserError(f"{name}: file is empty")
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data, name, sheet, max_rows)
    if data.startswith(_OLE_MAGIC):
        raise UserError(f"{name}: old Excel .xls format is not supported, save it as .xlsx or CSV")
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise UserError(f"{name}: not a valid XLSX file")
    if sheet is not None:
        raise UserError(f"{name}: --sheet applies only to XLSX files, this is a text (CSV) file")
    sheet_rows = _read_csv(_decode(data, name), name, max_rows)
    if not sheet_rows:
        raise UserError(f"{name}: file is empty")
    return Sheet(name, sheet_rows)


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UserError(f"{name}: not UTF-8 or cp1251 text (broken UTF-16)") from None
    if b"\x00" in data:
        raise UserError(f"{name}: not a table file (binary content; expected CSV text or XLSX)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        raise UserError(f"{name}: not UTF-8 or cp1251 text") from None
    if not _plausible_russian(text):
        raise UserError(f"{name}: not UTF-8 or cp1251 text")
    return text


def _plausible_russian(text: str) -> bool:
    """cp1251 decodes almost any bytes; accept it only when the non-ASCII text is mostly Cyrillic letters."""
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text):
        return False
    non_ascii = [ch for ch in text if ord(ch) > 127]
    cyrillic = sum(1 for ch in non_ascii if "А" <= ch <= "я" or ch in "Ёё")
    return cyrillic >= 0.8 * len(non_ascii)


def _read_csv(text: str, name: str, max_rows: int) -> list[Row]:
    delimiter = _sniff_delimiter(text)
    rows: list[Row] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    try:
        while True:
            first_line = reader.line_num + 1  # a quoted cell may span lines: report where the row starts
            cells = next(reader, None)
            if cells is None:
                break
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= max_rows:
                raise UserError(f"{name}: too many rows (limit {max_rows})")
            rows.append(Row(first_line, tuple(cell.strip() for cell in cells)))
    except csv.Error as exc:
        if _FIELD_LIMIT not in str(exc):
            raise UserError(f"{name}: row {reader.line_num}: not readable as CSV: {exc}") from None
        row_text = "".join(itertools.islice(io.StringIO(text, newline=""), first_line - 1, reader.line_num))
        raise _cell_too_large(name, first_line, _overlong_column(row_text, delimiter)) from None
    return rows


def _cell_too_large(name: str, row: int, column: int | None) -> UserError:
    where = f"row {row}" if column is None else f"row {row}, column {column + 1}"
    return UserError(f"{name}: {where}: cell too large (over {MAX_CELL_CHARS:,} characters, the limit for one cell)")


def _overlong_column(row_text: str, delimiter: str) -> int | None:
    """The index of the first cell of a CSV row longer than MAX_CELL_CHARS; None if none is."""
    column, length, quoted = 0, 0, False
    for char in row_text:
        if char == '"':
            quoted = not quoted  # a doubled quote inside quotes flips twice: a close enough count
        elif char == delimiter and not quoted:
            column, length = column + 1, 0
        else:
            length += 1
            if length > MAX_CELL_CHARS:
                return column
    return None


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most rows of one consistent width (≥ 2)."""
    sample = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_score = _DELIMITERS[0], (0, 0)
    for delimiter in _DELIMITERS:
        widths = _row_widths(sample, delimiter)
        common = max(set(widths), key=widths.count) if widths else 1
        score = (widths.count(common), common) if common >= 2 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _row_widths(lines: list[str], delimiter: str) -> list[int]:
    """The number of cells of each row; a row the csv module cannot read is left out (the reader proper names it)."""
    reader = csv.reader(lines, delimiter=delimiter)
    widths: list[int] = []
    while True:
        try:
            cells = next(reader, None)
        except csv.Error:
            continue  # the reader starts afresh on the next line
        if cells is None:
            return widths
        widths.append(len(cells))


def _read_xlsx(data: bytes, name: str, sheet: str | None, max_rows: int) -> Sheet:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UserError(f"{name}: not a readable XLSX file ({type(exc).__name__})") from None
    source = name if sheet is None else f"{name} [{sheet}]"
    try:
        rows = _worksheet_rows(_worksheet(book, name, sheet), source, max_rows)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UserError(f"{name}: not a readable XLSX file ({type(exc).__name__})") from None
    finally:
        book.close()
    if not rows:
        raise UserError(f"{source}: sheet is empty")
    return Sheet(source, rows)


def _worksheet(book: Any, name: str, sheet: str | None) -> Any:
    """The named sheet of an openpyxl workbook, or its first one."""
    if sheet is None:
        if not book.worksheets:
            raise UserError(f"{name}: the workbook has no sheets")
        return book.worksheets[0]
    if sheet not in book.sheetnames:
        raise UserError(f"{name}: no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
    return book[sheet]


def _worksheet_rows(ws: Any, source: str, max_rows: int) -> list[Row]:
    """The non-empty rows of an openpyxl worksheet, text cells stripped."""
    if not hasattr(ws, "reset_dimensions"):
        raise UserError(f"{source}: is a chart sheet, not a table")
    # Some writers store wrong dimensions; without this rows past them would be silently dropped.
    ws.reset_dimensions()
    rows: list[Row] = []
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = tuple(v.strip() if isinstance(v, str) else v for v in values)
        if all(c is None or c == "" for c in cells):
            continue
        if len(rows) >= max_rows:
            raise UserError(f"{source}: too many rows (limit {max_rows})")
        rows.append(Row(number, cells))
    return rows


# ---------------------------------------------------------------- header


def normalize_header(text: str) -> str:
    """Case, spaces and punctuation do not matter: `"Цена розн., руб"` → `"ценарознруб"`."""
    return re.sub(r"[\W_]+", "", text.casefold().replace("ё", "е"))


def _header_keys(text: str) -> list[str]:
    """The whole title, then without a trailing unit/remark (`РРЦ, руб.` / `РРЦ (с НДС)` → `ррц`) or number."""
    keys = [normalize_header(text)]
    head = re.split(r"[,(\[]", text, maxsplit=1)[0]
    if head != text:
        keys.append(normalize_header(head))
    keys.append(keys[-1].rstrip("0123456789"))  # numbered twins: "EAN 2", "Штрихкод2"
    return [k for k in dict.fromkeys(keys) if k]


def cell_text(value: Cell) -> str:
    """A cell as the text a person sees: integral floats without `.0`, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def parse_mapping(pairs: Iterable[str], fields: Sequence[str]) -> dict[str, list[str]]:
    """`--map rrp="Цена розн."` options → {field: [header, ...]}; an unknown field is a UserError."""
    out: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, header = pair.partition("=")
        key, header = key.strip().lower().replace("-", "_"), header.strip()
        if not sep or not key or not header:
            raise UserError(f"--map {pair!r}: expected FIELD=HEADER, e.g. --map rrp='Цена розн.'")
        if key not in fields:
            raise UserError(f"--map {pair!r}: unknown field {key!r} (fields: {', '.join(fields)})")
        out.setdefault(key, []).append(header)
    return out


def locate_header(
    sheet: Sheet, columns: Sequence[Column], mapping: Mapping[str, Sequence[str]] | None = None
) -> Header:
    """Find the header row (among the first rows; title lines above it are skipped) and map its columns.

    `mapping` forces a field to named header(s). Fails naming the file and the missing or ambiguous columns.
    """
    mapping = mapping or {}
    required = [c for c in columns if c.required]
    best: Header | None = None
    best_missing = len(required) + 1
    for row in sheet.rows[:HEADER_SEARCH_ROWS]:
        header = _match_row(sheet, row, columns, mapping)
        missing = _missing(header, required)
        if not missing and header.columns:
            _check_mapping(header, mapping)
            return Header(sheet.source, row.number, header.titles, header.columns, _after(sheet, row))
        if len(missing) < best_missing:
            best, best_missing = header, len(missing)
    assert best is not None  # a Sheet always has rows
    _check_mapping(best, mapping)
    raise _no_header(best, _missing(best, required))


def read_header(
    path: str | Path,
    columns: Sequence[Column],
    *,
    mapping: Iterable[str] = (),
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> Header:
    """The file's table under its header row, `--map FIELD=HEADER` pairs (`mapping`) naming any of `columns`."""
    table = read_table(path, sheet=sheet, max_bytes=max_bytes)
    return locate_header(table, columns, parse_mapping(mapping, [c.name for c in columns]))


def _missing(header: Header, required: Sequence[Column]) -> list[Column]:
    return [c for c in required if c.name not in header.columns]


def _no_header(best: Header, missing: Sequence[Column]) -> UserError:
    """The error for a sheet without a header row: the columns the best candidate row lacks, and what it has."""
    names = ", ".join(f"{c.name} ({' / '.join(c.aliases[:3])})" for c in missing)
    return UserError(
        f"{best.source}: row {best.row}: missing required column {names}; "
        f"columns found: {', '.join(t for t in best.titles if t) or 'none'} (use --map FIELD=HEADER)"
    )


def _after(sheet: Sheet, header_row: Row) -> list[Row]:
    return [r for r in sheet.rows if r.number > header_row.number]


def _match_row(sheet: Sheet, row: Row, columns: Sequence[Column], mapping: Mapping[str, Sequence[str]]) -> Header:
    titles = tuple(cell_text(c) for c in row.cells)
    keys = [_header_keys(t) for t in titles]
    found: dict[str, list[int]] = {}
    claimed: set[int] = set()
    # Columns named by --map first, so alias guessing never takes a column a person assigned elsewhere.
    for column in sorted(columns, key=lambda c: c.name not in mapping):
        if column.name in mapping:
            hits = _mapped_hits(keys, mapping[column.name])
        else:
            hits = _alias_hits(keys, column, claimed)
        if not hits:
            continue
        if len(hits) > 1 and not column.multiple:
            raise UserError(
                f"{sheet.source}: row {row.number}: columns {', '.join(titles[i] for i in hits)} "
                f"all look like {column.name}; choose one with --map {column.name}=HEADER"
            )
        claimed.update(hits)
        found[column.name] = hits
    return Header(sheet.source, row.number, titles, found)


def _mapped_hits(keys: Sequence[list[str]], headers: Sequence[str]) -> list[int]:
    """Indexes of the columns whose whole title is one of the headers a person named with --map."""
    wanted = {normalize_header(h) for h in headers}
    return [i for i, k in enumerate(keys) if k and k[0] in wanted]


def _alias_hits(keys: Sequence[list[str]], column: Column, claimed: set[int]) -> list[int]:
    """Indexes of the unclaimed columns titled by one of `column`'s aliases."""
    aliases = {normalize_header(a) for a in column.aliases}
    hits = [i for i, k in enumerate(keys) if k and k[0] in aliases and i not in claimed]
    if hits and not column.multiple:
        return hits
    # Also titles without their unit remark or number.
    loose = [i for i, k in enumerate(keys) if any(key in aliases for key in k[1:]) and i not in claimed]
    return sorted(set(hits) | set(loose))


def _check_mapping(header: Header, mapping: Mapping[str, Sequence[str]]) -> None:
    present = {normalize_header(t) for t in header.titles}
    for name, headers in mapping.items():
        for title in headers:
            if normalize_header(title) not in present:
                raise UserError(
                    f"{header.source}: --map {name}={title}: no such column "
                    f"(columns: {', '.join(t for t in header.titles if t)})"
                )


# ---------------------------------------------------------------- money

_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000']+")
_CURRENCY = re.compile(r"(₽|руб(лей|ля|ль)?\.?|р\.|р|rub\.?|rur)$|^(₽|rub|rur)", re.IGNORECASE)
_MINUS = "-\u2212\u2012\u2013"


def parse_money(value: Cell) -> Decimal | None:
    """A price cell → Decimal with 2 places; None when empty. Raises ValueError saying why it is not a price.

    Accepts decimal comma or point and spaces (incl. NBSP / thin space), dots or commas as thousands
    separators: "12 990,50", "12.990,50", "12,990.50", "12990", "12 990 ₽", "12990 руб.".
    """
    amount = _money_amount(value)
    if amount is None:
        return None
    if amount < 0:
        raise ValueError(f"negative price {cell_text(value)!r}")
    if amount == 0:
        raise ValueError("zero price")
    if amount > MAX_PRICE:
        raise ValueError(f"implausible price {cell_text(value)!r} (over {MAX_PRICE:,})")
    return amount


def _cents(number: Decimal, shown: Cell) -> Decimal:
    """Rounded to kopecks; a number with more digits than kopecks can be counted in is no price anyone means."""
    try:
        return number.quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"implausible price {cell_text(shown)!r} (over {MAX_PRICE:,})") from None


def _money_amount(value: Cell) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool | dt.date | dt.time | dt.timedelta):
        raise ValueError(f"not a price: {cell_text(value)!r}")
    if isinstance(value, int):
        return _cents(Decimal(value), value)
    if isinstance(value, float | Decimal):
        # repr() of a float is its shortest round-tripping text; rounding to cents drops binary artefacts.
        number = Decimal(repr(value)) if isinstance(value, float) else value
        if not number.is_finite():
            raise ValueError(f"not a price: {value!r}")
        return _cents(number, value)
    text = value.strip()
    if not text:
        return None
    return _parse_money_text(text)


def _parse_money_text(text: str) -> Decimal:
    original = text
    cleaned = _CURRENCY.sub("", text.strip()).strip()
    negative = bool(cleaned) and cleaned[0] in _MINUS
    if negative:
        cleaned = cleaned[1:]
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if not cleaned or not re.fullmatch(r"[\d .,]+", cleaned) or not cleaned[0].isdigit():
        raise ValueError(f"not a price: {original!r}")
    integer, fraction = _split_decimal(cleaned, original)
    groups = re.split(r"[ .,]", integer)
    if len(groups) > 1 and (
        not 1 <= len(groups[0]) <= 3 or groups[0].startswith("0") or any(len(g) != 3 for g in groups[1:])
    ):
        raise ValueError(f"not a price: {original!r} (digit groups do not look like thousands)")
    if len(fraction) > 2:
        raise ValueError(f"not a price: {original!r} (more than 2 decimal places)")
    try:
        amount = Decimal("".join(groups) + ("." + fraction if fraction else ""))
    except InvalidOperation:
        raise ValueError(f"not a price: {original!r}") from None
    return _cents(-amount if negative else amount, original)


def _split_decimal(text: str, original: str) -> tuple[str, str]:
    """Split off the decimal part: the last `.`/`,` is decimal unless it is followed by exactly 3 digits and
    is the only one of its kind (then it groups thousands: "12.990", "12,990", "1.234.567")."""
    marks = [(i, ch) for i, ch in enumerate(text) if ch in ".,"]
    if not marks:
        return text, ""
    pos, mark = marks[-1]
    tail = text[pos + 1 :]
    kinds = {ch for _, ch in marks}
    if len(kinds) == 2:
        if any(ch == mark for _, ch in marks[:-1]):
            raise ValueError(f"not a price: {original!r}")
        return text[:pos], tail
    if len(marks) > 1 or (len(tail) == 3 and tail.isdigit()):
        return text, ""  # only thousands separators
    if not tail.isdigit():
        raise ValueError(f"not a price: {original!r}")
    return text[:pos], tail
