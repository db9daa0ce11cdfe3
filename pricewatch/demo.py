"""The demo: the whole flow on the local pilot sites and a fresh SQLite file, two days, reports in ./demo-out."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from crawler.config import Config, load_config
from pricewatch.crawls.local import CrawlProgress
from pricewatch.daily import DailyResult, run_daily
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade

PILOT = Path(__file__).resolve().parent.parent / "fixtures" / "pilot"
DAYS = (1, 2)
EVIDENCE_ENV = "PRICEWATCH_EVIDENCE_DIR"


@dataclass
class DemoResult:
    out_dir: Path
    days: dict[int, DailyResult] = field(default_factory=dict)
    events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # day → alert events of that day
    reports: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.exit_code == 0 for r in self.days.values())


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables for this process and the crawl processes it starts; put the old ones back after."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _fresh(out_dir: Path) -> None:
    if out_dir.exists():
        if not (out_dir / ".pricewatch-demo").exists() and any(out_dir.iterdir()):
            from crawler.errors import UserError

            raise UserError(f"{out_dir}: exists and was not made by the demo; choose another --out")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    (out_dir / ".pricewatch-demo").touch()


def _load_pilot_data(db_url: str, config: Config, console: Console) -> None:
    from storage.catalog_import import import_catalog
    from storage.plan_import import import_plan

    engine = make_engine(db_url)
    upgrade(engine)
    # The price list is in force from a month back, so every observation of the demo has an RRP.
    valid_from = dt.date.today() - dt.timedelta(days=30)
    with session_scope(engine) as session:
        catalog = import_catalog(session, PILOT / "price_list.csv", name="РРЦ Термолайн", valid_from=valid_from)
        plan = import_plan(session, PILOT / "sales_plan.csv", config)
    engine.dispose()
    console.print(
        f"[bold]Catalog[/]: {catalog.rows} products from fixtures/pilot/price_list.csv; "
        f"[bold]sales plan[/]: {plan.rows} rows from fixtures/pilot/sales_plan.csv"
    )


def _day_events(db_url: str, rules_run_id: int | None) -> list[dict[str, Any]]:
    from storage.queries.daily import events_of_rules_run

    engine = make_engine(db_url)
    with session_scope(engine) as session:
        rows = events_of_rules_run(session, rules_run_id)
    engine.dispose()
    return rows


def _print_day(console: Console, day: int, result: DailyResult, events: list[dict[str, Any]]) -> None:
    crawls = Table(title=f"День {day} / day {day}: crawls", title_justify="left")
    for col in ("distributor", "status", "pages", "offers", "errors", "health", "seconds"):
        crawls.add_column(col)
    for c in result.crawls:
        crawls.add_row(
            c.distributor, c.status, str(c.pages), str(c.offers), str(c.errors), c.health or "", f"{c.duration:.1f}"
        )
    console.print(crawls)
    alerts = Table(title=f"День {day} / day {day}: alert events", title_justify="left")
    for col in ("event", "rule", "severity", "subject"):
        alerts.add_column(col)
    for e in events:
        style = {"opened": "red", "resolved": "green"}.get(e["kind"], "")
        alerts.add_row(f"[{style}]{e['kind']}[/]" if style else e["kind"], e["rule"], e["severity"], e["subject"])
    console.print(alerts)
    failed = [s for s in result.steps if not s.ok]
    for step in failed:
        console.print(f"[red]step {step.name} failed:[/] {step.detail}")


def _print_would_send(console: Console, db_url: str, config: Config, shown: set[tuple[str, ...]]) -> None:
    """What delivery would send (Telegram and email are not configured in the demo); each message once."""
    from notify.outbox import flush

    engine = make_engine(db_url)
    report = flush(engine, config, digest=True, dry_run=True)
    engine.dispose()
    fresh = []
    for item in report.preview:
        text = re.sub(r"<[^>]+>", "", str(item["text"]))
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        key = (str(item["channel"]), str(item["recipient"]), str(item["mode"]), text)
        if key not in shown:
            shown.add(key)
            fresh.append(f"  → {item['channel']} {item['recipient']} ({item['mode']}): {first}")
    if not fresh:
        return
    console.print(
        f"[bold]Would send[/] {len(fresh)} new messages (set TELEGRAM_BOT_TOKEN / SMTP_HOST to send them for real):"
    )
    for line in fresh:
        console.print(line, markup=False, overflow="ellipsis", no_wrap=True)


def _write_reports(db_url: str, config: Config, out_dir: Path) -> list[Path]:
    from reports.output import FORMATS, write_report

    engine = make_engine(db_url)
    written = []
    for fmt in FORMATS:
        path = out_dir / f"violations.{fmt}"
        write_report(path, fmt, engine, config)
        written.append(path)
    engine.dispose()
    return written


def run_demo(
    config_path: str,
    out_dir: Path,
    console: Console,
    on_progress: Callable[[CrawlProgress], None] | None = None,
) -> DemoResult:
    """Start the pilot sites, load the sample catalog and plan, run day 1 and day 2, write the reports."""
    from fixtures.sites import start_pilot_sites

    started = time.monotonic()
    out_dir = out_dir.resolve()
    _fresh(out_dir)
    db_url = f"sqlite:///{out_dir / 'pricewatch.db'}"
    result = DemoResult(out_dir)
    with start_pilot_sites(day=1) as sites, _environment({**sites.env(), EVIDENCE_ENV: str(out_dir / "evidence")}):
        console.print("[bold]Pilot sites[/] on 127.0.0.1: " + ", ".join(f"{k} {v}" for k, v in sites.urls.items()))
        config = load_config(config_path)
        _load_pilot_data(db_url, config, console)
        shown: set[tuple[str, ...]] = set()
        for day in DAYS:
            sites.set_day(day)
            console.rule(f"День {day} / day {day}")
            daily = run_daily(config, config_path, db_url, on_progress=on_progress)
            result.days[day] = daily
            result.events[day] = _day_events(db_url, daily.rules_run_id)
            _print_day(console, day, daily, result.events[day])
            _print_would_send(console, db_url, config, shown)
        result.reports = _write_reports(db_url, config, out_dir)
    console.rule("Where to look")
    for path in result.reports:
        console.print(f"  report: {path}")
    console.print(f"  evidence (HTML and screenshots): {out_dir / 'evidence'}")
    console.print(f"  database (SQLite, views v_latest_offers and v_open_violations): {out_dir / 'pricewatch.db'}")
    console.print(f"  try: pricewatch alerts list --db sqlite:///{out_dir / 'pricewatch.db'} --config {config_path}")
    console.print(f"[bold]Демо заняло / the demo took[/] {_duration(time.monotonic() - started)}")
    return result


def _duration(seconds: float) -> str:
    """`1 min 05 s` (or `42 s`): whole seconds, as a person reads a run's length."""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
