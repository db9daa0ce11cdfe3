"""What the commands importing a CSV/XLSX table against the config share: --map and --sheet, one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import click

from crawler.config import Config
from pricewatch.cli.common import F, get_config

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

R_co = TypeVar("R_co", covariant=True)


class TableImporter(Protocol[R_co]):
    """An import from storage: reads the file and writes it in the caller's transaction, or refuses it whole."""

    def __call__(
        self,
        session: Session,
        path: str | Path,
        config: Config,
        *,
        mapping: Sequence[str] = ...,
        sheet: str | None = ...,
    ) -> R_co: ...


def table_options(fields: str) -> Callable[[F], F]:
    """--map FIELD=HEADER (for the `fields` named in its help) and --sheet."""

    def deco(func: F) -> F:
        func = click.option("--sheet", help="XLSX sheet to read [default: the first].")(func)
        return click.option(
            "--map",
            "mapping",
            multiple=True,
            metavar="FIELD=HEADER",
            help=f"Use column HEADER for FIELD ({fields}); repeatable.",
        )(func)

    return deco


def run_import(
    importer: TableImporter[R_co],
    file: Path,
    *,
    config_path: str,
    db_url: str,
    mapping: Sequence[str],
    sheet: str | None,
) -> R_co:
    """The import of `file` in one transaction on the database: all of it written, or nothing."""
    from storage.engine import make_engine, session_scope

    config = get_config(config_path)
    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            return importer(session, file, config, mapping=mapping, sheet=sheet)
    finally:
        engine.dispose()
