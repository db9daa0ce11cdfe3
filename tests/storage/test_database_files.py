"""SQLite files as --db: only what creates the schema may create one; a folder or a non-database is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from crawler.errors import UserError
from storage.db_errors import describe_db_error
from storage.engine import DatabaseFileError, make_engine, sqlite_file
from storage.migrate import current_revision, head_revision, is_newer_than_code, upgrade


def test_an_engine_that_must_not_create_refuses_to_connect_to_a_missing_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    engine = make_engine(url, create=False)  # a command may still find a mistake in its other input first
    with pytest.raises(DatabaseFileError) as caught:
        engine.connect()
    engine.dispose()
    assert describe_db_error(caught.value, url) == (
        f"database {url} does not exist (no file {tmp_path / 'missing.db'}): "
        "with the same --db, run `pricewatch db upgrade` first"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_engine_that_may_create_still_does(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_an_empty_file_is_a_database_to_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    engine = make_engine(f"sqlite:///{path}", create=False)
    assert current_revision(engine) is None
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///pw.db", Path("pw.db")),
        ("sqlite:////srv/pw.db", Path("/srv/pw.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:/srv/pw.db?mode=ro&uri=true", None),
        ("postgresql://127.0.0.1/pw", None),
    ],
)
def test_the_file_a_url_names(url: str, expected: Path | None) -> None:
    assert sqlite_file(url) == expected


def test_only_revisions_no_migration_defines_are_newer() -> None:
    assert [is_newer_than_code(r) for r in (None, "0001", head_revision(), "9999")] == [False, False, False, True]


def test_upgrade_refuses_a_newer_database_before_touching_it(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(UserError, match=r"is at revision 9999, newer than this pricewatch"):
        upgrade(engine)
    assert current_revision(engine) == "9999"
    engine.dispose()
