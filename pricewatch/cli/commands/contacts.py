"""`pricewatch contacts`: the distributors' contacts for notices — import a CSV/XLSX, list them all."""

from __future__ import annotations

from pathlib import Path

import click

from pricewatch.cli.common import config_option, db_option, emit, format_option
from pricewatch.cli.table_import import run_import, table_options

COLUMNS = [
    ("distributor", "distributor"),
    ("seller", "seller"),
    ("person", "person"),
    ("email", "email"),
    ("telegram", "telegram"),
    ("language", "language"),
    ("source", "from"),
]


@click.group()
def cli() -> None:
    """Who at each distributor receives notices about its sellers' violations."""


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@table_options("distributor, seller, person, email, telegram, language")
@config_option
@db_option
@format_option("table", "json")
def import_(
    *, file: Path, mapping: tuple[str, ...], sheet: str | None, config_path: str, db_url: str, fmt: str
) -> None:
    """Replace the imported contacts with the file's (contacts written in the config stay).

    Columns: distributor (code or name), seller (a marketplace seller's id, for that seller only), person, email,
    telegram (a chat id or @name), language (ru or en). A row needs an email or a Telegram chat. A bad row refuses
    the whole file, naming its row and column.
    """
    from storage.contacts_import import import_contacts

    result = run_import(import_contacts, file, config_path=config_path, db_url=db_url, mapping=mapping, sheet=sheet)
    row = result.as_dict()
    if fmt == "json":
        emit([row], fmt)
        return
    emit(
        [row | {"distributors": ", ".join(result.distributors)}],
        fmt,
        [("contacts", "contacts"), ("distributors", "distributors")],
        title=f"{file}: imported",
    )


@cli.command("list")
@db_option
@format_option("table", "json")
def list_(*, db_url: str, fmt: str) -> None:
    """Every contact, by distributor: from the config (as of the last enforcement run) and imported."""
    from storage.engine import make_engine, session_scope
    from storage.queries.cases import all_contacts

    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            rows = [
                {
                    "distributor": code,
                    "seller": c.seller_code,
                    "person": c.person,
                    "email": c.email,
                    "telegram": c.telegram,
                    "language": c.language,
                    "source": c.source,
                }
                for c, code in all_contacts(session)
            ]
    finally:
        engine.dispose()
    emit(rows, fmt, COLUMNS, title=f"{len(rows)} contact(s)")
