"""`pricewatch report violations`: negotiation reports as XLSX, PDF or CSV."""

from __future__ import annotations

from pathlib import Path

import click

from pricewatch.cli.common import config_option, db_option, get_config


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
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First day [default: 29 days before --to].")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day [default: today], in the config's time zone.")
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
    lang: str | None,
    config_path: str,
    db_url: str,
) -> None:
    """Write the violations report for a period: dumping and parallel import, with their evidence.

    \b
    xlsx  Summary (per distributor), Violations, Price history and Stock sheets, native charts.
    pdf   Headline figures, price-vs-RRP charts, stock-outs and lost sales, violations with evidence
          thumbnails; each section shows the deepest violations and says how many more the XLSX has.
    csv   One row per violation for BI tools: UTF-8 with BOM, comma-separated, English column names.

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
        )
    finally:
        engine.dispose()
    period = f"{data.period.date_from.isoformat()}..{data.period.date_to.isoformat()}"
    violations_n, distributors_n = len(data.violations), len(data.summaries)
    click.echo(
        f"{out}: {violations_n} violation{'' if violations_n == 1 else 's'}, "
        f"{distributors_n} distributor{'' if distributors_n == 1 else 's'}, {period} ({chosen.upper()})"
    )
