"""`pricewatch plan import`: load a sales plan (distributor, SKU, quantity per month) from CSV/XLSX."""

from __future__ import annotations

from pathlib import Path

import click

from pricewatch.cli.common import config_option, db_option, emit, format_option
from pricewatch.cli.table_import import run_import, table_options


@click.group()
def cli() -> None:
    """Sales plans: units per distributor, SKU and month."""


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@table_options("distributor, vendor_code, month, quantity")
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
    from storage.plan_import import import_plan

    result = run_import(import_plan, file, config_path=config_path, db_url=db_url, mapping=mapping, sheet=sheet)
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
