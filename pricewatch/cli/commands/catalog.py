"""`pricewatch catalog`: import RRP price lists (CSV/XLSX) as dated versions; list products with current prices."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from pathlib import Path

import click

from pricewatch.cli.common import DATE, db_option, emit, format_option

MAX_WARNINGS_SHOWN = 20


@click.group()
def cli() -> None:
    """The brand's catalog: products, EANs and RRP price-list versions."""


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", help="Name of this price-list version [default: the file name].")
@click.option(
    "--valid-from",
    type=DATE,
    metavar="DATE",
    help="Date the prices apply from (YYYY-MM-DD or DD.MM.YYYY) [default: today].",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=HEADER",
    help="Use column HEADER for FIELD (vendor_code, name, gtin, rrp, map, dealer, category, brand); repeatable.",
)
@click.option("--sheet", help="XLSX sheet to read [default: the first].")
@db_option
@format_option("table", "json")
def import_(
    *,
    file: Path,
    name: str | None,
    valid_from: dt.datetime | None,
    mapping: tuple[str, ...],
    sheet: str | None,
    db_url: str,
    fmt: str,
) -> None:
    """Load an RRP price list (CSV or XLSX) as a new version; the same file again changes nothing.

    Columns are found by their Russian or English titles (Артикул/SKU, Наименование/name, EAN/штрихкод,
    РРЦ/RRP, МРЦ/MAP, дилерская/dealer, Категория/category, Бренд/brand). A bad file is refused whole.
    """
    from rich.console import Console

    from storage.catalog_import import import_catalog
    from storage.engine import make_engine, session_scope

    engine = make_engine(db_url, create=False)
    try:
        status = Console(stderr=True).status("Importing the price list…")
        with status if sys.stdout.isatty() else contextlib.nullcontext(), session_scope(engine) as session:
            result = import_catalog(
                session,
                file,
                name=name,
                valid_from=valid_from.date() if valid_from else None,
                mapping=mapping,
                sheet=sheet,
            )
    finally:
        engine.dispose()
    for warning in result.warnings[:MAX_WARNINGS_SHOWN]:
        click.echo(f"warning: {warning}", err=True)
    if len(result.warnings) > MAX_WARNINGS_SHOWN:
        click.echo(f"warning: … and {len(result.warnings) - MAX_WARNINGS_SHOWN} more warnings", err=True)
    if fmt == "json":
        emit([result.as_dict()], fmt)
    elif result.already_imported:
        click.echo(
            f"{file}: already imported as price list #{result.price_list_id} (version {result.version}, "
            f"{result.name!r}, valid from {result.valid_from}); nothing changed"
        )
    else:
        emit(
            [result.as_dict() | {"warnings": len(result.warnings)}],
            fmt,
            [
                ("rows", "rows"),
                ("new_products", "new products"),
                ("updated_products", "updated"),
                ("unchanged_products", "unchanged"),
                ("gtins_added", "EANs added"),
                ("warnings", "warnings"),
                ("price_list_id", "price list id"),
                ("version", "version"),
                ("valid_from", "valid from"),
            ],
            title=(f"{file}: загружен", f"{file}: imported"),
        )


@cli.command("list")
@click.option("--on", "on", type=DATE, metavar="DATE", help="Prices in force on this date [default: today].")
@db_option
@format_option("table", "json")
def list_(*, on: dt.datetime | None, db_url: str, fmt: str) -> None:
    """List the catalog's products with the RRP (MAP, dealer price) in force."""
    from storage.codes import display_gtin
    from storage.engine import make_engine, session_scope
    from storage.queries.catalog import current_prices

    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            entries = current_prices(session, on.date() if on else dt.date.today())
    finally:
        engine.dispose()
    rows = [
        {
            "vendor_code": e.vendor_code,
            "name": e.name,
            "category": e.category,
            "brand": e.brand,
            "gtins": list(e.gtins) if fmt == "json" else ", ".join(display_gtin(g) for g in e.gtins),
            "rrp": e.rrp,
            "map_price": e.map_price,
            "dealer_price": e.dealer_price,
            "price_list_id": e.price_list_id,
            "valid_from": e.valid_from,
        }
        for e in entries
    ]
    emit(
        rows,
        fmt,
        [
            ("vendor_code", "SKU"),
            ("name", "name"),
            ("category", "category"),
            ("brand", "brand"),
            ("gtins", "EAN"),
            ("rrp", "RRP"),
            ("map_price", "MAP"),
            ("dealer_price", "dealer"),
            ("valid_from", "valid from"),
        ],
    )
