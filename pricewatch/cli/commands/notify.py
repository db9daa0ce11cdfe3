"""`pricewatch notify`: deliver what the outbox holds to Telegram and email."""

from __future__ import annotations

import sys

import click

from pricewatch.cli.common import config_option, db_option, emit, format_option, get_config, to_json

CHANNEL_NAMES = {"telegram": "Telegram", "email": "email (SMTP)"}


@click.group()
def cli() -> None:
    """Notifications: the outbox of alert messages and digests."""


@cli.command()
@click.option(
    "--digest", is_flag=True, help="Also send the daily digest: one message per recipient of its digest rows."
)
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and change nothing.")
@config_option
@db_option
@format_option("table", "json")
def flush(*, digest: bool, dry_run: bool, config_path: str, db_url: str, fmt: str) -> None:
    """Send due messages with retries and backoff; a message never goes twice to one recipient.

    Digest emails carry the violations report (XLSX) unless `notify.digest_attach_xlsx` is off.

    A channel that is not configured (no Telegram token, no SMTP host) keeps its messages pending and
    reports them as "would send".

    Exits 1, with one line on stderr per route, when delivery was refused for a reason retries cannot fix (a bot
    token or SMTP login refused, a chat that does not exist, a refused mailbox) or a message was given up.
    """
    from notify.outbox import flush as flush_outbox
    from notify.report_files import digest_attachment
    from storage.engine import make_engine

    config = get_config(config_path)
    engine = make_engine(db_url, create=False)
    try:
        report = flush_outbox(
            engine, config, digest=digest, dry_run=dry_run, attachment=digest_attachment(engine, config)
        )
    finally:
        engine.dispose()
    if dry_run:
        columns = [
            ("channel", "channel"),
            ("recipient", "recipient"),
            ("mode", "mode"),
            ("rows", "rows"),
            ("text", "message"),
        ]
        count = len(report.preview)
        emit(report.preview, fmt, columns, title=(f"к отправке: {count}", f"would send {count} message(s)"))
        return
    if fmt == "json":
        click.echo(to_json(report.summary()))
    else:
        emit([{k: v for k, v in report.summary().items() if k not in ("would_send", "refused")}], fmt)
        for channel, count in sorted(report.would_send.items()):
            click.echo(f"would send {count} message(s) ({CHANNEL_NAMES.get(channel, channel)} not configured)")
    for line in report.refusal_lines():
        click.echo(f"error: {line}", err=True)
    if report.refusals:
        sys.exit(1)
