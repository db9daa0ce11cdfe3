"""`pricewatch scrapyd …`: the Scrapyd hosts crawls run on with `crawl.backend: scrapyd`."""

from __future__ import annotations

import click

from crawler.errors import UserError
from pricewatch.cli.common import config_option, emit, format_option, get_config

COLUMNS = [
    ("url", "Host"),
    ("node", "Node"),
    ("detail", "Status"),
    ("busy", "Busy"),
    ("running", "Running"),
    ("pending", "Pending"),
]


@click.group()
def cli() -> None:
    """Scrapyd hosts: check that they can take pricewatch's crawls."""


@cli.command()
@config_option
@format_option("table", "json")
def status(*, config_path: str, fmt: str) -> None:
    """Check the hosts in crawl.scrapyd: answering, project deployed, spiders there; the jobs each runs and queues.

    Running and Pending are pricewatch's jobs (by run key); Busy counts every project's jobs on the host.
    Exits 1 if any host is not ready.
    """
    from pricewatch.crawls.scrapyd import hosts_status

    config = get_config(config_path)
    if not config.crawl.scrapyd:
        raise UserError(f"{config_path}: crawl.scrapyd lists no hosts")
    statuses = hosts_status(config)
    rows = [s.row() for s in statuses]
    if fmt == "table":
        rows = [{**row, "running": ", ".join(row["running"]), "pending": ", ".join(row["pending"])} for row in rows]
    emit(rows, fmt, COLUMNS, title=("Узлы Scrapyd", "Scrapyd hosts"))
    if not all(s.ready for s in statuses):
        raise click.exceptions.Exit(1)
