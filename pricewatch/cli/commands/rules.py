"""`pricewatch rules`: evaluate the rules over what was crawled — open, keep and resolve alerts, queue messages."""

from __future__ import annotations

import click

from pricewatch.cli.common import config_option, db_option, emit, format_option, get_config, to_json


@click.group()
def cli() -> None:
    """The alert rules: dumping, stock-outs, parallel import, price moves, crawler health."""


@cli.command()
@config_option
@db_option
@format_option("table", "json")
def run(*, config_path: str, db_url: str, fmt: str) -> None:
    """Evaluate every enabled rule and update the alerts in one transaction; queue their messages.

    Running it again over the same crawl runs changes nothing and queues nothing. Prints, per rule, how many
    alerts were opened, continued (ongoing) and resolved.
    """
    from pricewatch.alerting import run_rules_and_queue
    from rules.engine import RULE_NAMES
    from storage.engine import make_engine, session_scope
    from storage.models import EventKind

    config = get_config(config_path)
    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            summary = run_rules_and_queue(session, config)
    finally:
        engine.dispose()
    rows = [
        {
            "rule": rule,
            "opened": summary.counts[rule][EventKind.OPENED],
            "ongoing": summary.counts[rule][EventKind.ONGOING],
            "resolved": summary.counts[rule][EventKind.RESOLVED],
        }
        for rule in RULE_NAMES
        if rule in summary.counts
    ]
    if fmt == "json":
        click.echo(
            to_json(
                {
                    "rules_run_id": summary.rules_run_id,
                    "new_crawl_runs": summary.new_crawl_runs,
                    "queued": summary.queued,
                    "rules": rows,
                }
            )
        )
        return
    news = f"{len(summary.new_crawl_runs)} new crawl run(s)" if summary.new_crawl_runs else "no new crawl runs"
    emit(
        rows,
        fmt,
        [("rule", "rule"), ("opened", "opened"), ("ongoing", "ongoing"), ("resolved", "resolved")],
        title=f"rules run {summary.rules_run_id}: {news}, {summary.queued} message(s) queued",
    )
