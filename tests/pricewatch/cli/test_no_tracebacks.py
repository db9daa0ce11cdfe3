"""A person's mistake about files and databases is one `error:` line, never a traceback, and writes nothing:
oversized CSV cells, a database newer than the code, a --db that is no SQLite database, a folder or missing, a
read-only database; and no read command creates a database file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from storage.engine import make_engine
from storage.migrate import head_revision
from tests.support.cli import Outcome, Pricewatch
from tests.support.reliability import PILOT_YAML, table_counts
from tests.support.services import REPO

SAMPLE = REPO / "fixtures" / "samples" / "pricelist_ru.csv"
HUGE = "x" * 200_000  # past the 131 072 characters one CSV cell may hold
TOO_LARGE = "cell too large (over 131,072 characters, the limit for one cell)"


def one_error_line(result: Outcome) -> str:
    """The single `error: …` line of a refused command (non-zero exit, nothing on stdout, no traceback)."""
    assert result.code != 0, result.out
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: "), result.err
    return lines[0]


def counts(db_url: str) -> dict[str, int]:
    engine = make_engine(db_url)
    try:
        return table_counts(engine)
    finally:
        engine.dispose()


def sqlite_files(folder: Path) -> set[str]:
    """The names in `folder`: a database file, or its -wal / -shm companions, must not appear there."""
    return {p.name for p in folder.iterdir()}


# ---------------------------------------------------------------- an oversized CSV cell


def test_a_price_list_cell_over_the_limit_names_file_row_and_column(
    pricewatch: Pricewatch, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(f"Артикул;Наименование;РРЦ\nTL-1;Вентилятор;990\nTL-2;{HUGE};1490\n", encoding="utf-8")
    before = counts(db_url)
    line = one_error_line(pricewatch("catalog", "import", str(path), "--db", db_url))
    assert line == f"error: prices.csv: row 3, column 2: {TOO_LARGE}"
    assert counts(db_url) == before


def test_a_sales_plan_cell_over_the_limit_names_file_row_and_column(
    pricewatch: Pricewatch, db_url: str, tmp_path: Path
) -> None:
    assert pricewatch("catalog", "import", str(SAMPLE), "--db", db_url).code == 0
    path = tmp_path / "plan.csv"
    path.write_text(f"Дистрибьютор;Артикул;Месяц;Количество\ntechsnab;TL-1001;2026-01;{HUGE}\n", encoding="utf-8")
    before = counts(db_url)
    result = pricewatch("plan", "import", str(path), "--config", str(PILOT_YAML), "--db", db_url)
    assert one_error_line(result) == f"error: plan.csv: row 2, column 4: {TOO_LARGE}"
    assert counts(db_url) == before


# ---------------------------------------------------------------- a database newer than this pricewatch


@pytest.fixture(params=["9999", "a1b2c3d4e5f6"], ids=["stamped 9999", "a newer pricewatch's revision"])
def newer_db(request: pytest.FixtureRequest, db_url: str) -> Iterator[str]:
    """The test database stamped with a revision this code does not know; put back at head afterwards."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": request.param})
    try:
        yield db_url
    finally:
        with engine.begin() as conn:  # the PostgreSQL database is shared by the whole session
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()})
        engine.dispose()


def _revision(db_url: str) -> str:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
    finally:
        engine.dispose()


def test_upgrade_of_a_newer_database_says_to_upgrade_pricewatch_and_changes_nothing(
    pricewatch: Pricewatch, newer_db: str
) -> None:
    revision, before = _revision(newer_db), counts(newer_db)
    line = one_error_line(pricewatch("db", "upgrade", "--db", newer_db))
    assert f"is at revision {revision}, newer than this pricewatch (head {head_revision()})" in line
    assert line.endswith("upgrade pricewatch instead; nothing changed")
    assert (_revision(newer_db), counts(newer_db)) == (revision, before)


def test_current_of_a_newer_database_says_to_upgrade_pricewatch(pricewatch: Pricewatch, newer_db: str) -> None:
    result = pricewatch("db", "current", "--db", newer_db)
    assert (result.code, result.err) == (0, "")
    revision = _revision(newer_db)
    assert f"revision {revision}, newer than this pricewatch (head {head_revision()})" in result.out
    assert "upgrade pricewatch, not the database" in result.out
    assert "run `pricewatch db upgrade`" not in result.out


# ---------------------------------------------------------------- a --db file that is no SQLite database


def _text_file(path: Path) -> None:
    path.write_text("this is a note, not a database\n" * 20, encoding="utf-8")


def _xlsx_file(path: Path) -> None:
    book = Workbook()
    book.active.append(["Артикул", "РРЦ"])
    book.save(path)


@pytest.mark.parametrize("make", [_text_file, _xlsx_file], ids=["text", "xlsx"])
@pytest.mark.parametrize(
    "command", [("db", "upgrade"), ("db", "current"), ("catalog", "list")], ids=["upgrade", "current", "list"]
)
def test_a_file_that_is_no_database_is_one_line_and_left_untouched(
    pricewatch: Pricewatch, tmp_path: Path, make: Callable[[Path], None], command: tuple[str, ...]
) -> None:
    path = tmp_path / "prices.db"
    make(path)
    content = path.read_bytes()
    line = one_error_line(pricewatch(*command, "--db", f"sqlite:///{path}"))
    assert line.startswith(f"error: database sqlite:///{path}")
    assert f"{path} is not an SQLite database" in line
    assert path.read_bytes() == content
    assert sqlite_files(tmp_path) == {"prices.db"}


def test_a_damaged_database_is_one_line(pricewatch: Pricewatch, tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8000)  # the header, then garbage
    line = one_error_line(pricewatch("catalog", "list", "--db", f"sqlite:///{path}"))
    assert line.startswith(f"error: database sqlite:///{path} is not an SQLite database, or is damaged (")


@pytest.mark.parametrize("command", [("db", "upgrade"), ("catalog", "list")], ids=["upgrade", "list"])
def test_a_folder_as_the_database_file_is_one_line(
    pricewatch: Pricewatch, tmp_path: Path, command: tuple[str, ...]
) -> None:
    line = one_error_line(pricewatch(*command, "--db", f"sqlite:///{tmp_path}"))
    assert line == f"error: database sqlite:///{tmp_path}: {tmp_path} is a directory, not an SQLite database file"


def test_upgrade_into_a_missing_folder_names_the_folder(pricewatch: Pricewatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'pricewatch.db'}"
    line = one_error_line(pricewatch("db", "upgrade", "--db", url))
    assert line == f"error: database {url}: the folder {tmp_path / 'nowhere'} does not exist"


# ---------------------------------------------------------------- a read-only database


def _read_only(db_url: str) -> str:
    """The same database, opened so that every write is refused (a read-only file, a PostgreSQL replica)."""
    if db_url.startswith("sqlite:///"):
        return f"sqlite:///file:{db_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    return db_url + "?options=-c%20default_transaction_read_only%3Don"


def test_an_import_into_a_read_only_database_is_one_line_and_writes_nothing(
    pricewatch: Pricewatch, db_url: str
) -> None:
    before = counts(db_url)
    line = one_error_line(pricewatch("catalog", "import", str(SAMPLE), "--db", _read_only(db_url)))
    assert " is read-only (" in line
    assert line.endswith("nothing can be written to it")
    assert counts(db_url) == before


# ---------------------------------------------------------------- no read command creates a database

READ_COMMANDS = {
    "alerts list": ("alerts", "list", "--config", str(PILOT_YAML)),
    "alerts show": ("alerts", "show", "1", "--config", str(PILOT_YAML)),
    "offers export": ("offers", "export", "--out", "{folder}/offers.csv", "--config", str(PILOT_YAML)),
    "catalog list": ("catalog", "list"),
    "report violations": ("report", "violations", "--out", "{folder}/report.csv", "--config", str(PILOT_YAML)),
    "match review": ("match", "review", "--out", "{folder}/review.csv", "--config", str(PILOT_YAML)),
    "evidence prune": ("evidence", "prune", "--config", str(PILOT_YAML)),
    "rules run": ("rules", "run", "--config", str(PILOT_YAML)),
    "notify flush": ("notify", "flush", "--config", str(PILOT_YAML)),
    "cases list": ("cases", "list", "--config", str(PILOT_YAML)),
    "cases notify": ("cases", "notify", "--dry-run", "--config", str(PILOT_YAML)),
    "contacts list": ("contacts", "list"),
    "catalog import": ("catalog", "import", str(SAMPLE)),
    "plan import": ("plan", "import", str(SAMPLE.with_name("sales_plan_ru.csv")), "--config", str(PILOT_YAML)),
}


@pytest.mark.parametrize("command", list(READ_COMMANDS))
def test_a_command_on_a_missing_database_file_says_so_and_creates_nothing(
    pricewatch: Pricewatch, tmp_path: Path, command: str
) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    args = [a.replace("{folder}", str(tmp_path)) for a in READ_COMMANDS[command]]
    line = one_error_line(pricewatch(*args, "--db", url))
    assert line == (
        f"error: database {url} does not exist (no file {tmp_path / 'missing.db'}): "
        "with the same --db, run `pricewatch db upgrade` first"
    )
    assert sqlite_files(tmp_path) == set()


def test_current_on_a_missing_database_file_creates_nothing(pricewatch: Pricewatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    result = pricewatch("db", "current", "--db", url)
    assert (result.code, result.out.strip()) == (0, f"{url}: no schema yet; run `pricewatch db upgrade`")
    assert sqlite_files(tmp_path) == set()


def test_upgrade_still_creates_the_database_file(pricewatch: Pricewatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert pricewatch("db", "upgrade", "--db", url).code == 0
    assert pricewatch("catalog", "list", "--db", url).code == 0


def test_a_mistake_in_the_file_is_told_before_the_missing_database_and_creates_nothing(
    pricewatch: Pricewatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    line = one_error_line(pricewatch("catalog", "import", str(tmp_path / "nope.csv"), "--db", url))
    assert line == f"error: {tmp_path / 'nope.csv'}: file not found"
    assert sqlite_files(tmp_path) == set()
