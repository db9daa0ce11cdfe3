"""Engines and sessions: SQLite (WAL, foreign keys on) by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
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


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = resolve_db_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(f"--db / DATABASE_URL: not a database URL: {safe_url(url)}") from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)
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
