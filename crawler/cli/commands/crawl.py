"""`pricewatch crawl`: crawl distributors, each in its own process; store the offers or write them as JSON lines."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

import click

from crawler.cli.common import config_option, db_option, emit, format_option, get_config
from crawler.errors import UserError

if TYPE_CHECKING:
    from rich.console import Console

    from crawler.run import CrawlProgress

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


@contextlib.contextmanager
def _progress(console: Console | None) -> Iterator[Callable[[CrawlProgress], None] | None]:
    """A rich progress display, one line per distributor, when the display is a terminal."""
    if console is None:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<20}"),
        TextColumn("{task.fields[status]:<9}"),
        TextColumn("pages {task.fields[pages]:>6}  offers {task.fields[offers]:>6}  errors {task.fields[errors]:>4}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def update(p: CrawlProgress) -> None:
            if p.distributor not in tasks:
                tasks[p.distributor] = bar.add_task(p.distributor, total=None, start=False, **_fields(p))
            task = tasks[p.distributor]
            if p.status == "running":
                bar.start_task(task)
            bar.update(task, **_fields(p))
            if p.status in ("finished", "failed"):
                bar.stop_task(task)
                bar.update(task, total=1, completed=1)

        yield update


def _fields(p: CrawlProgress) -> dict[str, Any]:
    return {"status": p.status, "pages": p.pages, "offers": p.offers, "errors": p.errors}


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

    Without --output the offers go through the pipelines into the database and each run gets a health verdict.
    Exits 1 if any crawl failed.
    """
    from rich.console import Console

    from crawler.run import run_crawls, select_distributors

    config = get_config(config_path)
    select_distributors(config, codes)
    display = sys.stderr if output == "-" else sys.stdout
    console = Console(file=display) if display.isatty() else None
    with _output(output) as stream, _progress(console) as on_progress:
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
    emit([s.row() for s in summaries], fmt, COLUMNS, title="Crawl", err=output == "-")
    failed = [s for s in summaries if s.failed]
    for summary in failed:
        click.echo(f"error: crawl of {summary.distributor} failed: {summary.reason}", err=True)
    if failed:
        sys.exit(1)
