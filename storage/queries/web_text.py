"""Case-insensitive "contains" for the panel's searches, Cyrillic included, on both dialects.

PostgreSQL's ILIKE folds every letter; SQLite's LIKE folds only ASCII, so on SQLite the text and the column are
compared through Python's `str.casefold`, registered on the connection as a function.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import Session

_SQLITE_FOLD = "pw_casefold"


def _casefold(value: object) -> str | None:
    return None if value is None else str(value).casefold()


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(session: Session, column: Any, text: str) -> ColumnElement[bool]:
    """`column` contains `text`, letter case ignored; `%` and `_` in the text match themselves."""
    pattern = f"%{_escaped(text.strip())}%"
    if session.get_bind().dialect.name != "sqlite":
        result: ColumnElement[bool] = column.ilike(pattern, escape="\\")
        return result
    raw = session.connection().connection.driver_connection
    if raw is not None:
        raw.create_function(_SQLITE_FOLD, 1, _casefold, deterministic=True)
    folded: ColumnElement[bool] = getattr(func, _SQLITE_FOLD)(column).like(pattern.casefold(), escape="\\")
    return folded
