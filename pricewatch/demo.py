"""The demo: the whole flow on the local pilot sites and a fresh SQLite file, reports in ./demo-out.

The demo keeps its own calendar: a month of history (written straight to storage, see `pricewatch.demo_history`),
then pilot day 1 yesterday and day 2 today, each crawled at its own date (the clock moved by whole days for this
process and the crawls it starts), so the reports chart a month and count days as a manager would.
"""

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

from crawler.clock import SHIFT_ENV
from crawler.config import Config, load_config
from fixtures.pilot import history
from pricewatch.crawls.local import CrawlProgress
from pricewatch.daily import DailyResult, run_daily
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade

PILOT = Path(__file__).resolve().parent.parent / "fixtures" / "pilot"
DAYS = (1, 2)
EVIDENCE_ENV = "PRICEWATCH_EVIDENCE_DIR"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def day_shift(day: int) -> int:
    """Whole days the clock is moved for pilot day `day` (the last day is today)."""
    return day - DAYS[-1]


def history_shift(days_before: int) -> int:
    """Whole days the clock is moved for the history day `days_before` days before pilot day 1."""
    return day_shift(DAYS[0]) - days_before


@contextmanager
def at_shift(days: int) -> Iterator[None]:
    """The clock `days` days from today, for this process and the crawl processes it starts."""
    with _environment({SHIFT_ENV: str(days)}):
        yield


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


def first_day(config: Config) -> dt.date:
    """The demo's first date: the oldest history day (local)."""
    return _today(config) + dt.timedelta(days=history_shift(history.DAYS))


def _today(config: Config) -> dt.date:
    return dt.datetime.now(config.tz).date()


def _shift_month(value: str, months: int) -> str:
    match = _MONTH.match(value.strip())
    if match is None:
        return value
    index = int(match[1]) * 12 + int(match[2]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def rebased_plan(source: Path, target: Path, today: dt.date) -> Path:
    """The sample plan with its months moved so that its middle month is this one (and its first the last), so the
    demo's dates always have a plan; written to `target`."""
    lines = source.read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], [line.split(";") for line in lines[1:] if line.strip()]
    months = sorted({r[2] for r in rows if _MONTH.match(r[2])})
    middle = months[len(months) // 2]
    moved = (today.year * 12 + today.month) - (int(middle[:4]) * 12 + int(middle[5:7]))
    out = [header] + [";".join([*r[:2], _shift_month(r[2], moved), *r[3:]]) for r in rows]
    target.write_text("\n".join(out) + "\n", encoding="utf-8-sig")
    return target


def _load_pilot_data(db_url: str, config: Config, out_dir: Path, console: Console) -> None:
    from storage.catalog_import import import_catalog
    from storage.contracts_import import import_contracts
    from storage.plan_import import import_plan

    engine = make_engine(db_url)
    upgrade(engine)
    plan_file = rebased_plan(PILOT / "sales_plan.csv", out_dir / "sales_plan.csv", _today(config))
    # The price list is in force from the first history day, so every observation of the demo has an RRP.
    with session_scope(engine) as session:
        catalog = import_catalog(session, PILOT / "price_list.csv", name="РРЦ Термолайн", valid_from=first_day(config))
        plan = import_plan(session, plan_file, config)
        contracts = import_contracts(session, PILOT / "contracts.csv", config)
    engine.dispose()
    console.print(
        f"[bold]Catalog[/]: {catalog.rows} products from fixtures/pilot/price_list.csv; "
        f"[bold]sales plan[/]: {plan.rows} rows from fixtures/pilot/sales_plan.csv (months moved to the demo's); "
        f"[bold]contracts[/]: {contracts.entities} legal entities (by ИНН) from fixtures/pilot/contracts.csv"
    )


def _write_history(db_url: str, config: Config, urls: dict[str, str], console: Console) -> None:
    from pricewatch.demo_history import write_history

    started = time.monotonic()
    engine = make_engine(db_url)
    write_history(engine, config, urls, history.DAYS, lambda days_before: at_shift(history_shift(days_before)))
    engine.dispose()
    last = _today(config) + dt.timedelta(days=history_shift(1))
    console.print(
        f"[bold]History[/]: {history.DAYS} days, {first_day(config):%d.%m.%Y}–{last:%d.%m.%Y}, written straight to "
        f"the database from the pilot's ground truth (not crawled), each followed by a rules run "
        f"({_duration(time.monotonic() - started)})"
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


def _fresh_messages(db_url: str, config: Config, shown: set[tuple[str, ...]]) -> list[str]:
    """What delivery would send now (Telegram and email are not configured in the demo) and `shown` has not."""
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
    return fresh


def _print_would_send(console: Console, db_url: str, config: Config, shown: set[tuple[str, ...]]) -> None:
    """Each message once."""
    fresh = _fresh_messages(db_url, config, shown)
    if not fresh:
        return
    console.print(
        f"[bold]Would send[/] {len(fresh)} new messages (set TELEGRAM_BOT_TOKEN / SMTP_HOST to send them for real):"
    )
    for line in fresh:
        console.print(line, markup=False, overflow="ellipsis", no_wrap=True)


def _write_reports(db_url: str, config: Config, out_dir: Path) -> list[Path]:
    """The reports over the demo's whole calendar, history included."""
    from reports.output import FORMATS, write_report

    engine = make_engine(db_url)
    written = []
    for fmt in FORMATS:
        path = out_dir / f"violations.{fmt}"
        write_report(path, fmt, engine, config, date_from=first_day(config), date_to=_today(config))
        written.append(path)
    engine.dispose()
    return written


def run_demo(
    config_path: str,
    out_dir: Path,
    console: Console,
    on_progress: Callable[[CrawlProgress], None] | None = None,
) -> DemoResult:
    """Start the pilot sites, load the sample catalog and plan, write the history, run day 1 (yesterday) and day 2
    (today), write the reports."""
    from fixtures.sites import start_pilot_sites

    started = time.monotonic()
    out_dir = out_dir.resolve()
    _fresh(out_dir)
    db_url = f"sqlite:///{out_dir / 'pricewatch.db'}"
    result = DemoResult(out_dir)
    with start_pilot_sites(day=1) as sites, _environment({**sites.env(), EVIDENCE_ENV: str(out_dir / "evidence")}):
        console.print("[bold]Pilot sites[/] on 127.0.0.1: " + ", ".join(f"{k} {v}" for k, v in sites.urls.items()))
        config = load_config(config_path)
        _load_pilot_data(db_url, config, out_dir, console)
        _write_history(db_url, config, sites.urls, console)
        shown: set[tuple[str, ...]] = set()
        _fresh_messages(db_url, config, shown)  # what the history queued is a month old: not shown as news
        for day in DAYS:
            sites.set_day(day)
            date = _today(config) + dt.timedelta(days=day_shift(day))
            console.rule(f"День {day} / day {day}: {date:%d.%m.%Y}")
            with at_shift(day_shift(day)):
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


# `demo --serve`: the panel's demo logins (a fresh demo database each time, on 127.0.0.1 only).
DEMO_PASSWORD = "pricewatch-demo"
DEMO_ACCOUNTS = (("admin", "admin", ()), ("manager", "manager", ("techsnab",)))


def demo_panel(result: DemoResult, config_path: str) -> tuple[Any, Config]:
    """The web panel over the demo's database and evidence, with its demo accounts (a random secret key)."""
    import secrets

    from web.accounts import NewUser, create
    from web.app import create_app

    db_url = f"sqlite:///{result.out_dir / 'pricewatch.db'}"
    engine = make_engine(db_url, create=False)
    with session_scope(engine) as session:
        for username, role, distributors in DEMO_ACCOUNTS:
            create(session, NewUser(username, DEMO_PASSWORD, role, distributors))
    config = load_config(config_path)
    app = create_app(engine, config, secrets.token_urlsafe(48), evidence_dir=result.out_dir / "evidence")
    return app, config


def serve_demo_panel(result: DemoResult, config_path: str, console: Console, port: int) -> None:
    """Serve the panel on the demo data until interrupted, after printing where and how to log in."""
    from web.server import serve

    app, config = demo_panel(result, config_path)
    console.rule("Панель / the panel")
    console.print(f"  open: http://127.0.0.1:{port}/")
    for username, role, distributors in DEMO_ACCOUNTS:
        scope = f" (only {', '.join(distributors)})" if distributors else ""
        console.print(f"  login: {username} / {DEMO_PASSWORD} — {role}{scope}")
    console.print("  stop: Ctrl+C")
    serve(app, config, "127.0.0.1", port)
