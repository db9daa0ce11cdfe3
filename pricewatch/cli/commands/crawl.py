"""`pricewatch crawl`: crawl distributors, each in its own process; store the offers or write them as JSON lines."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import IO

import click

from crawler.errors import UserError
from pricewatch.cli.common import config_option, db_option, emit, format_option, get_config

COLUMNS = [
    ("distributor", "Distributor"),
    ("status", "Status"),
    ("pages", "Pages"),
    ("offers", "Offers"),
    ("errors", "Errors"),
    ("duration", "Seconds"),
    ("health", "Health"),
    ("reason", "Reason"),
]


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[str] | None]:
    if path is None:
        yield None
    elif path == "-":
        yield sys.stdout
    else:
        try:
            stream = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UserError(f"{path}: cannot write the offers: {exc.strerror}") from None
        with stream:
            yield stream


@click.command()
@click.option(
    "--distributor",
    "-d",
    "codes",
    multiple=True,
    metavar="CODE",
    help="A distributor's code from the config (repeatable); every enabled one when not given.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="At most N product pages (feed records) per distributor; 0 = all.",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE|-",
    help="Write the offers as JSON lines to FILE (`-`: stdout) and store nothing.",
)
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False),
    help="Keep each crawl's Scrapy log as DIR/<run key>.log.",
)
@config_option
@db_option
@format_option("table", "json")
def cli(
    *,
    codes: tuple[str, ...],
    limit: int,
    output: str | None,
    log_dir: str | None,
    config_path: str,
    db_url: str,
    fmt: str,
) -> None:
    """Crawl distributors' sites: each in its own process, a few at a time; print a summary per distributor.

    Without --output the offers go through the pipelines into the database and each run gets a health verdict
    (each crawl process gets the database URL in its environment, never on its command line).
    Exits 1 if any crawl failed.
    """
    from pricewatch.cli.progress import crawl_progress, terminal_console
    from pricewatch.crawls.local import run_crawls, select_distributors

    config = get_config(config_path)
    select_distributors(config, codes)
    display = sys.stderr if output == "-" else sys.stdout
    with _output(output) as stream, crawl_progress(terminal_console(display)) as on_progress:
        summaries = run_crawls(
            config,
            config_path,
            codes,
            db_url=None if stream is not None else db_url,
            output=stream,
            limit=limit,
            on_progress=on_progress,
            log_dir=log_dir,
        )
    emit([s.row() for s in summaries], fmt, COLUMNS, title=("Сбор данных", "Crawl"), err=output == "-")
    failed = [s for s in summaries if s.failed]
    for summary in failed:
        click.echo(f"error: crawl of {summary.distributor} failed: {summary.reason}", err=True)
    if failed:
        sys.exit(1)
