"""The dialect's own INSERT (SQLite or PostgreSQL): ON CONFLICT upserts, and a fast bulk INSERT for hot paths."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """`INSERT` with `.on_conflict_do_nothing()` / `.on_conflict_do_update()` for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class BulkInsert:
    """INSERT … ON CONFLICT (key) DO NOTHING of many rows, without SQLAlchemy's per-row statement work.

    Each value still goes through its column's own SQLAlchemy bind processing (so SQLite stores times and
    numbers exactly as the ORM does); the rows then go to the driver in one call: `executemany` on SQLite,
    `COPY` into a temporary table and one `INSERT … SELECT` on PostgreSQL (psycopg's executemany is far slower).
    """

    def __init__(
        self,
        dialect: Dialect,
        table: Table,
        columns: Sequence[str],
        key: Sequence[str],
        returning: Sequence[str] = (),
    ) -> None:
        self.dialect = dialect
        self.table = table
        self.columns = list(columns)
        processors: list[Callable[[Any], Any] | None] = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.columns
        ]
        self._processors = [(i, p) for i, p in enumerate(processors) if p is not None]
        # Identifiers come from our own table metadata, quoted by the dialect; values are always parameters.
        quote = dialect.identifier_preparer.quote
        target, names = quote(table.name), ", ".join(quote(c) for c in self.columns)
        conflict = f"ON CONFLICT ({', '.join(quote(k) for k in key)}) DO NOTHING"
        self._staging_flag = f"pricewatch_staging_{table.name}"
        if dialect.name == "postgresql":
            staging = quote(f"_load_{table.name}")
            self._sql = [
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} AS SELECT {names} FROM {target} WITH NO DATA",  # noqa: S608
                f"COPY {staging} ({names}) FROM STDIN",
                # One statement moves the rows: the staging table is empty again whatever the outcome.
                f"WITH moved AS (DELETE FROM {staging} RETURNING {names}) "  # noqa: S608
                f"INSERT INTO {target} ({names}) SELECT {names} FROM moved {conflict}"
                + (f" RETURNING {', '.join(quote(c) for c in returning)}" if returning else ""),
            ]
        else:
            marks = ", ".join("?" * len(self.columns))
            self._sql = [f"INSERT INTO {target} ({names}) VALUES ({marks}) {conflict}"]  # noqa: S608

    def _bound(self, row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        for i, process in self._processors:
            if values[i] is not None:
                values[i] = process(values[i])
        return tuple(values)

    def execute(self, session: Session, rows: Sequence[Sequence[Any]]) -> int:
        """Insert rows (values in `columns` order) in the session's transaction; returns how many were new."""
        if not rows:
            return 0
        result = self._run(session, rows)
        return int(result.rowcount)

    def execute_returning(self, session: Session, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]] | None:
        """Like `execute`; on PostgreSQL the `returning` columns of the rows that were new, on SQLite None
        (its executemany returns no rows)."""
        if not rows:
            return []
        result = self._run(session, rows)
        return [tuple(row) for row in result] if self.dialect.name == "postgresql" else None

    def _run(self, session: Session, rows: Sequence[Sequence[Any]]) -> CursorResult[Any]:
        bound = [self._bound(row) for row in rows]
        connection = session.connection()
        if self.dialect.name != "postgresql":
            return connection.exec_driver_sql(self._sql[0], bound)
        create, copy_sql, insert = self._sql
        # The staging table lives as long as the database connection; it is created once per connection (and
        # again after a rollback, which undoes its creation).
        if self._staging_flag not in connection.info:
            _forget_staging_on_rollback(connection.engine)
            connection.exec_driver_sql(create)
            connection.info[self._staging_flag] = True
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for values in bound:
                copy.write_row(values)
        return connection.exec_driver_sql(insert)


_WATCHED: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_staging_on_rollback(engine: Engine) -> None:
    if engine in _WATCHED:
        return

    def forget(connection: Connection) -> None:
        for flag in [k for k in connection.info if isinstance(k, str) and k.startswith("pricewatch_staging_")]:
            del connection.info[flag]

    event.listen(engine, "rollback", forget)
    _WATCHED.add(engine)
