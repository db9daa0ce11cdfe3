"""`pricewatch report violations`: negotiation reports as XLSX, PDF or CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pricewatch.cli.common import config_option, db_option, get_config

if TYPE_CHECKING:
    from reports.csv_report import CsvDialectName


@click.group()
def cli() -> None:
    """Reports for channel managers."""


@cli.command("violations")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "pdf", "csv"]),
    help="File format [default: from the --out file name].",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
@click.option(
    "--distributor",
    default="all",
    show_default=True,
    metavar="CODE|all",
    help="One distributor, or all of them (the PDF then has one section per distributor).",
)
@click.option("--from", "date_from", metavar="DATE", help="First day [default: 29 days before --to].")
@click.option("--to", "date_to", metavar="DATE", help="Last day [default: today], in the config's time zone.")
@click.option(
    "--dialect",
    "csv_dialect",
    type=click.Choice(["bi", "excel-ru"]),
    default="bi",
    show_default=True,
    help="CSV only: bi (comma, decimal point) for BI tools, excel-ru (;, decimal comma) for Excel in Russian.",
)
@click.option("--lang", type=click.Choice(["ru", "en"]), help="Report language [default: notify.language].")
@config_option
@db_option
def violations(
    *,
    fmt: str | None,
    out: Path,
    distributor: str,
    date_from: str | None,
    date_to: str | None,
    csv_dialect: CsvDialectName,
    lang: str | None,
    config_path: str,
    db_url: str,
) -> None:
    """Write the violations report for a period: dumping and parallel import, with their evidence.

    \b
    xlsx  Summary (per distributor), Violations, Price history and Stock sheets, native charts.
    pdf   Headline figures, price-vs-RRP charts, stock-outs and lost sales, violations with evidence
          thumbnails; each section shows the deepest violations and says how many more the XLSX has.
    csv   One row per violation: UTF-8 with BOM, English column names; --dialect bi (comma, decimal point)
          for BI tools, excel-ru (;, decimal comma, local times) to open in Excel with Russian settings.

    Dates as YYYY-MM-DD or DD.MM.YYYY.

    Evidence links are relative to the report's folder.
    """
    from reports.output import report_format, write_report
    from storage.engine import make_engine

    chosen = report_format(out, fmt)
    config = get_config(config_path)
    engine = make_engine(db_url, create=False)
    try:
        data = write_report(
            out,
            chosen,
            engine,
            config,
            distributor=distributor,
            date_from=date_from,
            date_to=date_to,
            language=lang,
            csv_dialect=csv_dialect,
        )
    finally:
        engine.dispose()
    period = f"{data.period.date_from.isoformat()}..{data.period.date_to.isoformat()}"
    violations_n, distributors_n = len(data.violations), len(data.summaries)
    click.echo(
        f"{out}: {violations_n} violation{'' if violations_n == 1 else 's'}, "
        f"{distributors_n} distributor{'' if distributors_n == 1 else 's'}, {period} ({chosen.upper()})"
    )
