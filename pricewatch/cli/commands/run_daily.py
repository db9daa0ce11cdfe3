"""`pricewatch run-daily`: crawl → rules → evidence → delivery and digest; what the schedule runs."""

from __future__ import annotations

import sys

import click

from pricewatch.cli.common import config_option, db_option, emit, format_option, get_config, to_json


@click.command("run-daily")
@config_option
@db_option
@click.option("--distributor", "codes", multiple=True, metavar="CODE", help="Only these distributors (repeatable).")
@format_option("table", "json")
def cli(config_path: str, db_url: str, codes: tuple[str, ...], fmt: str) -> None:
    """Run the whole daily flow once.

    Exit codes: 0 all steps succeeded; 1 a step failed (the digest lists it); 2 a mistake in the config or
    arguments; 3 another run holds the lock, nothing was done.
    """
    from pricewatch.cli.progress import crawl_progress, terminal_console
    from pricewatch.daily import run_daily

    config = get_config(config_path)
    for code in codes:
        config.distributor(code)
    with crawl_progress(terminal_console()) as on_progress:
        result = run_daily(config, config_path, db_url, distributors=codes, on_progress=on_progress)
    if fmt == "json":
        click.echo(to_json({"daily_run_id": result.daily_run_id, "exit_code": result.exit_code, **result.summary()}))
    elif result.skipped_reason is None:
        emit([s.__dict__ for s in result.steps], fmt, [("name", "Step"), ("ok", "OK"), ("detail", "Detail")])
    click.echo(result.headline(), err=fmt == "json")
    sys.exit(result.exit_code)
