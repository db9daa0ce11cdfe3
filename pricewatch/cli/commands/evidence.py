"""`pricewatch evidence capture|prune`: page copies and screenshots behind violations, and their retention."""

from __future__ import annotations

import click

from pricewatch.cli.common import config_option, db_option, emit, format_option, get_config


@click.group()
def cli() -> None:
    """Evidence for violations: saved page HTML and screenshots."""


@cli.command("capture")
@config_option
@db_option
@format_option("table", "json")
def capture(*, config_path: str, db_url: str, fmt: str) -> None:
    """Capture evidence for open dumping / parallel-import alerts that have none (run-daily does it after rules).

    Keeps the page's HTML (gzip) and a full-page screenshot with the price outlined, under `evidence.dir`.
    A page that cannot be fetched gets no evidence and a warning; the next run tries again.
    """
    from reports.evidence import capture_for_new_alerts
    from storage.engine import make_engine

    config = get_config(config_path)
    engine = make_engine(db_url, create=False)
    try:
        results = capture_for_new_alerts(engine, config)
    finally:
        engine.dispose()
    rows = [
        {
            "url": r.url,
            "alerts": ",".join(str(i) for i in r.alert_ids),
            "html_id": r.html_id,
            "screenshot_id": r.screenshot_id,
            "outlined": r.outlined,
            "from_crawl": r.from_crawl,
            "errors": "; ".join(r.errors) or None,
        }
        for r in results
    ]
    emit(rows, fmt, title=None if fmt == "json" else f"evidence captured for {len(rows)} pages")


@cli.command("prune")
@config_option
@db_option
@format_option("table", "json")
def prune(*, config_path: str, db_url: str, fmt: str) -> None:
    """Delete evidence older than `evidence.retention_days`; what an open alert references is kept."""
    from reports.evidence import prune_evidence
    from storage.engine import make_engine

    config = get_config(config_path)
    engine = make_engine(db_url, create=False)
    try:
        result = prune_evidence(engine, config)
    finally:
        engine.dispose()
    emit([{"records": result.records, "files": result.files}], fmt)
