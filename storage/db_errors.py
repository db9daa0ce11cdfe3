"""Database failures a person can fix (server unreachable, schema missing or old, read-only, no such database
file) told in one safe line."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from storage.engine import DatabaseFileError, resolve_db_url, safe_url

_MISSING_SCHEMA = ("no such table", "no such column", "does not exist")  # SQLite, PostgreSQL (undefined relation)
_READ_ONLY = ("attempt to write a readonly database",)  # SQLite: a read-only file, folder or `mode=ro`
_NOT_SQLITE = ("file is not a database", "database disk image is malformed")  # SQLite


def describe_db_error(exc: BaseException, url: str | None) -> str | None:
    """One line for a database that is unreachable, lacks the current schema, is read-only or is no SQLite
    database; None for any other error."""
    import psycopg

    if isinstance(exc, DatabaseFileError):
        return str(exc)
    if not isinstance(exc, DBAPIError | psycopg.OperationalError):
        return None
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    lines = str(orig).strip().splitlines()
    first = _redact(lines[0] if lines else type(orig).__name__, url)
    where = safe_url(resolve_db_url(url))
    if _lacks_schema(orig, first):
        return f"database {where} lacks the current schema ({first}): run `pricewatch db upgrade` first"
    if isinstance(orig, psycopg.errors.ReadOnlySqlTransaction) or _sqlite_says(orig, first, _READ_ONLY):
        return f"database {where} is read-only ({first}): nothing can be written to it"
    if _sqlite_says(orig, first, _NOT_SQLITE):
        return f"database {where} is not an SQLite database, or is damaged ({first})"
    if isinstance(exc, OperationalError | psycopg.OperationalError):
        return f"database unreachable or not upgraded ({where}): {first}"
    return None


def _lacks_schema(orig: Any, first: str) -> bool:
    import psycopg

    if isinstance(orig, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn):
        return True
    return _sqlite_says(orig, first, _MISSING_SCHEMA)


def _sqlite_says(orig: Any, first: str, phrases: tuple[str, ...]) -> bool:
    """The error is not PostgreSQL's (whose texts are matched by class, not words) and says one of the phrases."""
    import psycopg

    return not isinstance(orig, psycopg.Error) and any(p in first for p in phrases)


def _redact(text: str, url: str | None) -> str:
    try:
        password = make_url(resolve_db_url(url)).password
    except ArgumentError:
        return text
    return text.replace(str(password), "***") if password else text
