"""Database failures a person can fix (server unreachable, schema missing or old) told in one safe line."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, ProgrammingError

from storage.engine import resolve_db_url, safe_url

_MISSING_SCHEMA = ("no such table", "no such column", "does not exist")  # SQLite, PostgreSQL (undefined relation)


def describe_db_error(exc: BaseException, url: str | None) -> str | None:
    """One line for an unreachable database or one without the current schema; None for any other error."""
    import psycopg

    if not isinstance(exc, OperationalError | ProgrammingError | psycopg.OperationalError):
        return None
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    lines = str(orig).strip().splitlines()
    first = _redact(lines[0] if lines else type(orig).__name__, url)
    where = safe_url(resolve_db_url(url))
    schema_problem = isinstance(orig, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn) or (
        not isinstance(orig, psycopg.Error) and any(m in first for m in _MISSING_SCHEMA)
    )
    if schema_problem:
        return f"database {where} lacks the current schema ({first}): run `pricewatch db upgrade` first"
    if isinstance(exc, ProgrammingError):
        return None
    return f"database unreachable or not upgraded ({where}): {first}"


def _redact(text: str, url: str | None) -> str:
    try:
        password = make_url(resolve_db_url(url)).password
    except ArgumentError:
        return text
    return text.replace(str(password), "***") if password else text
