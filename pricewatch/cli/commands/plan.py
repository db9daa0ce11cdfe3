"""`pricewatch plan import`: load a sales plan (distributor, SKU, quantity per month) from CSV/XLSX."""

from __future__ import annotations

from pathlib import Path

import click

from pricewatch.cli.common import config_option, db_option, emit, format_option, get_config


@click.group()
def cli() -> None:
    """Sales plans: units per distributor, SKU and month."""


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=HEADER",
    help="Use column HEADER for FIELD (distributor, vendor_code, month, quantity); repeatable.",
)
@click.option("--sheet", help="XLSX sheet to read [default: the first].")
@config_option
@db_option
@format_option("table", "json")
def import_(
    *, file: Path, mapping: tuple[str, ...], sheet: str | None, config_path: str, db_url: str, fmt: str
) -> None:
    """Load a sales plan, replacing the quantities of the same distributor, SKU and month.

    Long format: columns distributor, SKU (Артикул), month (2026-01, 01.2026, «январь 2026» or a date) and
    quantity. Wide format: distributor, SKU and one column per month. A bad file is refused whole.
    """
    from storage.engine import make_engine, session_scope
    from storage.plan_import import import_plan

    config = get_config(config_path)
    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            result = import_plan(session, file, config, mapping=mapping, sheet=sheet)
    finally:
        engine.dispose()
    row = result.as_dict()
    if fmt == "json":
        emit([row], fmt)
        return
    months = result.months[0] if len(result.months) == 1 else f"{result.months[0]} … {result.months[-1]}"
    emit(
        [row | {"distributors": ", ".join(result.distributors), "months": months}],
        fmt,
        [
            ("rows", "rows"),
            ("entries", "plan entries"),
            ("inserted", "new"),
            ("replaced", "replaced"),
            ("distributors", "distributors"),
            ("months", "months"),
        ],
        title=f"{file}: imported",
    )
