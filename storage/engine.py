"""Engines and sessions: SQLite (WAL, foreign keys on) by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from crawler.errors import UserError

DEFAULT_DB_URL = "sqlite:///pricewatch.db"


def resolve_db_url(url: str | None = None) -> str:
    """The URL given, else DATABASE_URL, else the local SQLite file; `postgresql://` gets the psycopg 3 driver."""
    url = url or os.environ.get("DATABASE_URL") or DEFAULT_DB_URL
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url[len(plain) :]
    return url


def safe_url(url: str) -> str:
    """The URL with any password hidden, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def sqlite_file(url: str | None = None) -> Path | None:
    """The file a SQLite URL names; None for PostgreSQL, in-memory SQLite and `file:` URIs (SQLite reads those)."""
    try:
        parsed = make_url(resolve_db_url(url))
    except ArgumentError:
        return None  # make_engine says what is wrong with it
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or "uri" in parsed.query:
        return None
    return Path(database)


class DatabaseFileError(Exception):
    """A SQLite --db that is missing, a folder or no database: told in one line, like the other database failures."""


def _check_sqlite_file(path: Path, url: str, *, create: bool) -> None:
    """Raise DatabaseFileError unless `path` is an SQLite database (or empty), or may be made (`create`) there."""
    where = f"database {safe_url(url)}"
    if path.is_dir():
        raise DatabaseFileError(f"{where}: {path} is a directory, not an SQLite database file")
    if path.exists():
        # Never open the file here: closing any descriptor of it drops the POSIX locks SQLite holds in this
        # process, and another connection's writes then corrupt it. SQLite itself refuses a non-database
        # ("file is not a database"), which storage/db_errors.py puts in one line.
        return
    if not create:
        raise DatabaseFileError(
            f"{where} does not exist (no file {path}): with the same --db, run `pricewatch db upgrade` first"
        )
    if not path.parent.is_dir():
        raise DatabaseFileError(f"{where}: the folder {path.parent} does not exist")


def _check_on_connect(path: Path, url: str, create: bool, *_connect_args: Any) -> None:
    """A `do_connect` listener: runs before SQLite opens (and would create) the file."""
    _check_sqlite_file(path, url, create=create)


def make_engine(url: str | None = None, *, create: bool = True, **kwargs: Any) -> Engine:
    """An engine for the URL (see `resolve_db_url`); with `create=False` connecting to a missing SQLite file is a
    DatabaseFileError, where SQLite would make an empty one: only what creates the schema may let it."""
    url = resolve_db_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(f"--db / DATABASE_URL: not a database URL: {safe_url(url)}") from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)
        path = sqlite_file(url)
        if path is not None:
            # Checked on connecting, not here: a command still reports a mistake in its other input first.
            event.listen(engine, "do_connect", functools.partial(_check_on_connect, path, url, create))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise UserError(f"--db / DATABASE_URL: only sqlite and postgresql are supported, got {parsed.drivername}")
    return create_engine(url, pool_pre_ping=True, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed whole when the block ends, rolled back whole when it raises."""
    with session_factory(engine)() as session, session.begin():
        yield session
