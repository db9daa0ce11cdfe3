"""A person's mistakes and hostile files through the real console script: one `error:` line on stderr naming what
and where, a non-zero exit, no traceback, and not a row written (row counts of every table before and after).

The import's own table of mistakes (duplicates, bad EANs, empty cells, …) is tested in-process in tests/storage;
here are the files a careless or hostile sender produces, as XLSX and CSV, and what a config or command line can
get wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook

from crawler.config import load_config
from storage.engine import make_engine
from tests.support.reliability import PILOT_YAML, fresh_sqlite, load_pilot_catalog, pricewatch, table_counts

pytestmark = pytest.mark.slow

HEADER = ["Артикул", "Наименование", "EAN", "РРЦ"]
GOOD = ["TL-9001", "Вентилятор настольный Termoline TL-9001", None, "990"]


@pytest.fixture(scope="module")
def catalog_db(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database holding the pilot's price list; a refused file must leave it exactly as it is."""
    url = fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("bad-input"))
    load_pilot_catalog(url)
    return url


def counts(db_url: str) -> dict[str, int]:
    engine = make_engine(db_url)
    try:
        return table_counts(engine)
    finally:
        engine.dispose()


def csv_file(folder: Path, name: str, rows: list[list[object]]) -> Path:
    path = folder / name
    path.write_text("\n".join(";".join("" if c is None else str(c) for c in row) for row in rows) + "\n", "utf-8")
    return path


def xlsx_file(folder: Path, name: str, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)  # type: ignore[union-attr]
    path = folder / name
    book.save(path)
    return path


def many_rows(folder: Path) -> Path:
    path = folder / "prices-200001-rows.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(";".join(HEADER) + "\n")
        out.writelines(f"TL-{n};Вентилятор {n};;990\n" for n in range(200_001))
    return path


def too_big(folder: Path) -> Path:
    path = folder / "prices-51mb.csv"
    with path.open("wb") as out:
        out.write((";".join(HEADER) + "\n").encode())
        out.write(b"TL-1;x;;1\n" * (51 * 1024 * 1024 // 10))
    return path


def raw(name: str, data: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return write


def table(name: str, *rows: list[object]) -> Callable[[Path], Path]:
    maker = xlsx_file if name.endswith(".xlsx") else csv_file
    return lambda folder: maker(folder, name, [HEADER, GOOD, *rows])


PRICE_LISTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "wrong columns (csv)": (
        lambda folder: csv_file(folder, "prices.csv", [["Код", "Товар", "Цена"], ["TL-9", "Вентилятор", 990]]),
        "prices.csv: row 1: missing required column vendor_code (Артикул",
    ),
    "wrong columns (xlsx)": (
        lambda folder: xlsx_file(folder, "prices.xlsx", [["Артикул", "Наименование", "Цена"], ["TL-9", "x", 990]]),
        "prices.xlsx: row 1: missing required column rrp (РРЦ",
    ),
    "negative (csv)": (table("prices.csv", ["TL-9002", "Обогреватель", None, "-1 990,00"]), "row 3, column РРЦ"),
    "negative (xlsx)": (table("prices.xlsx", ["TL-9002", "Обогреватель", None, -1990]), "row 3, column РРЦ"),
    "zero (xlsx)": (table("prices.xlsx", ["TL-9002", "Обогреватель", None, 0]), "row 3, column РРЦ: zero price"),
    "absurd (xlsx)": (
        table("prices.xlsx", ["TL-9002", "Обогреватель", None, Decimal("1e12")]),
        "row 3, column РРЦ: implausible price",
    ),
    "absurd number (xlsx)": (
        table("prices.xlsx", ["TL-9002", "Обогреватель", None, 1e26]),
        "row 3, column РРЦ: implausible price",
    ),
    "thirty digits": (
        table("prices.csv", ["TL-9002", "Обогреватель", None, "999 999 999 999 999 999 999 999 999 999"]),
        "row 3, column РРЦ: implausible price",
    ),
    "NaN": (table("prices.csv", ["TL-9002", "Обогреватель", None, "NaN"]), "row 3, column РРЦ: not a price"),
    "Infinity": (table("prices.csv", ["TL-9002", "Обогреватель", None, "Infinity"]), "row 3, column РРЦ"),
    "exponent": (table("prices.csv", ["TL-9002", "Обогреватель", None, "1e5"]), "row 3, column РРЦ: not a price"),
    "formula for a price (csv)": (table("prices.csv", ["TL-9002", "x", None, "=1+2"]), "row 3, column РРЦ"),
    # A formula whose result was never saved: no price to read.
    "formula for a price (xlsx)": (table("prices.xlsx", ["TL-9002", "x", None, "=D2*1.2"]), "row 3, column РРЦ"),
    "too many rows": (many_rows, "prices-200001-rows.csv: too many rows (limit 200000)"),
    "too large": (too_big, "prices-51mb.csv: file is too large"),
    "not a workbook": (raw("prices.xlsx", b"PK\x03\x04" + b"\x00garbage" * 64), "prices.xlsx: not a readable XLSX"),
    "binary": (raw("prices.csv", bytes(range(256)) * 8), "prices.csv: not a table file"),
}


@pytest.mark.parametrize("case", list(PRICE_LISTS))
def test_a_bad_price_list_is_one_line_naming_the_place_and_writes_nothing(
    case: str, catalog_db: str, tmp_path: Path
) -> None:
    make, message = PRICE_LISTS[case]
    path = make(tmp_path)
    before = counts(catalog_db)
    ran = pricewatch("catalog", "import", str(path), "--db", catalog_db)
    assert ran.code == 2
    assert message in ran.one_error_line()
    assert counts(catalog_db) == before


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("1e30", "implausible quantity '1e30'"), ("99 999 999 999", "implausible quantity")],
    ids=["overflowing", "absurd"],
)
def test_a_sales_plan_with_an_absurd_quantity_is_one_line_and_writes_nothing(
    quantity: str, message: str, catalog_db: str, tmp_path: Path
) -> None:
    rows = [["Дистрибьютор", "Артикул", "Месяц", "Количество"], ["techsnab", "TL-1001", "2026-11", "40"]]
    path = csv_file(tmp_path, "plan.csv", [*rows, ["techsnab", "TL-1002", "2026-11", quantity]])
    before = counts(catalog_db)
    ran = pricewatch("plan", "import", str(path), "--config", str(PILOT_YAML), "--db", catalog_db)
    assert ran.code == 2
    assert f"plan.csv: row 3, column Количество: {message}" in ran.one_error_line()
    assert counts(catalog_db) == before


def _pilot() -> str:
    return PILOT_YAML.read_text(encoding="utf-8")


def _edited(key_path: list[str | int], value: object) -> Callable[[Path], str]:
    """pilot.yaml with one value replaced (as parsed YAML, written back)."""

    def text(_: Path) -> str:
        data = yaml.safe_load(_pilot())
        node = data
        for key in key_path[:-1]:
            node = node[key]
        node[key_path[-1]] = value
        return yaml.safe_dump(data, allow_unicode=True)

    return text


def _alias_bomb(_: Path) -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 10)]
    return "\n".join([*lines, "distributors: *l9", ""])


CONFIGS: dict[str, tuple[Callable[[Path], str], str]] = {
    "unknown nested key": (
        lambda _: _pilot().replace("    politeness:", "    politness:", 1),
        "distributors[0](techsnab).politness: unknown key",
    ),
    "unknown top-level key": (lambda _: _pilot() + "\ncolour: blue\n", "colour: unknown key"),
    "file URL": (
        _edited(["distributors", 0, "start_urls", 0], "file:///etc/passwd"),
        "distributors[0](techsnab).start_urls[0]: expected an http(s) URL, got 'file:///etc/passwd'",
    ),
    "javascript URL": (
        _edited(["distributors", 2, "canary", "url"], "javascript:alert(1)"),
        "distributors[2](marketplace).canary.url: expected an http(s) URL",
    ),
    "ftp Bot API": (
        _edited(["notify", "telegram", "base_url"], "ftp://127.0.0.1/"),
        "notify.telegram.base_url: expected an http(s) URL",
    ),
    "secret in the file": (
        _edited(["notify", "telegram", "token"], "123456:AAH-literally-in-the-file"),
        "notify.telegram.token: secrets come only from the environment",
    ),
    "tab indentation": (
        lambda _: _pilot().replace("  - code: klimatprof", "\t- code: klimatprof"),
        f"line {_pilot().splitlines().index('  - code: klimatprof') + 1}, column 1: not valid YAML",
    ),
    "unclosed bracket": (lambda _: 'distributors: [{code: a, name: "unclosed}]\n', "not valid YAML"),
    "empty file": (lambda _: "", "expected a mapping of sections at the top level"),
    "python object tag": (
        lambda folder: f'timezone: !!python/object/apply:os.system ["touch {folder / "PWNED"}"]\n' + _pilot(),
        "line 1, column 11: not valid YAML: could not determine a constructor",
    ),
    "alias bomb": (_alias_bomb, "expands to more than 100,000 values"),
}


@pytest.mark.parametrize("case", list(CONFIGS))
def test_a_bad_config_is_one_line_naming_the_key_and_nothing_runs(case: str, catalog_db: str, tmp_path: Path) -> None:
    make, message = CONFIGS[case]
    path = tmp_path / "pricewatch.yaml"
    path.write_text(make(tmp_path), encoding="utf-8")
    before = counts(catalog_db)
    ran = pricewatch("run-daily", "--config", str(path), "--db", catalog_db, timeout=60)
    assert ran.code == 2
    line = ran.one_error_line()
    assert line.startswith(f"error: {path}:")
    assert message in line
    assert counts(catalog_db) == before  # not even a daily run was recorded
    assert not (tmp_path / "PWNED").exists()  # YAML tags never run code


def test_the_pilot_config_itself_loads() -> None:
    """The cases above edit pilot.yaml: it must be valid to begin with, or they would prove nothing."""
    assert load_config(PILOT_YAML).codes() == ["techsnab", "klimatprof", "marketplace", "vitrina"]


COMMAND_LINES: dict[str, tuple[list[str], str]] = {
    "unknown command": (["frobnicate"], "No such command 'frobnicate'"),
    "unknown option": (["crawl", "--frobnicate"], "No such option '--frobnicate'"),
    "negative limit": (["crawl", "--limit", "-1"], "Invalid value for '--limit'"),
    "unknown distributor": (["run-daily", "--distributor", "nosuch"], "no distributor 'nosuch' in the config"),
    "unknown report format": (
        ["report", "violations", "--format", "docx", "--out", "x.docx"],
        "Invalid value for '--format': 'docx'",
    ),
    "missing file argument": (["catalog", "import"], "Missing argument 'FILE'"),
    "unsupported database": (["rules", "run", "--db", "mysql://root@localhost/pw"], "only sqlite and postgresql"),
    "extra argument": (["notify", "flush", "now"], "Got unexpected extra argument (now)"),
}


@pytest.mark.parametrize("case", list(COMMAND_LINES))
def test_a_wrong_command_line_is_one_line_and_exit_2(case: str, catalog_db: str) -> None:
    args, message = COMMAND_LINES[case]
    before = counts(catalog_db)
    ran = pricewatch(*args, env={"DATABASE_URL": catalog_db, "PRICEWATCH_CONFIG": str(PILOT_YAML)}, timeout=60)
    assert ran.code == 2
    assert message in ran.one_error_line()
    assert counts(catalog_db) == before
