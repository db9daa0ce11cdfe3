"""`pricewatch alerts`: what is open, what was resolved, and one alert's history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args
from zoneinfo import ZoneInfo

import click

from crawler.config import RuleName
from crawler.errors import UserError
from pricewatch.cli.common import config_option, db_option, emit, format_option, local_when, table_zone, to_json

if TYPE_CHECKING:
    from storage.queries.alerts import AlertView

RULES = get_args(RuleName)
LIST_COLUMNS = [
    ("id", "id"),
    ("rule", "rule"),
    ("severity", "severity"),
    ("status", "status"),
    ("distributor_code", "distributor"),
    ("subject", "subject"),
    ("opened_at", "opened"),
    ("last_seen_at", "last seen"),
    ("resolved_at", "resolved"),
    ("seen_count", "seen"),
]


@click.group()
def cli() -> None:
    """Alerts the rules opened: list them, show one with its events."""


def _row(view: AlertView, tz: ZoneInfo | None) -> dict[str, Any]:
    a = view.alert
    return {
        "id": a.id,
        "rule": a.rule,
        "fingerprint": a.fingerprint,
        "severity": a.severity,
        "status": a.status.value,
        "distributor_code": view.distributor_code,
        "subject": a.subject,
        "opened_at": local_when(a.opened_at, tz),
        "last_seen_at": local_when(a.last_seen_at, tz),
        "resolved_at": local_when(a.resolved_at, tz),
        "seen_count": a.seen_count,
        "feedback": a.feedback,
        "details": a.details,
    }


@cli.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only open alerts.")
@click.option("--rule", type=click.Choice(RULES), help="Only this rule's alerts.")
@click.option("--distributor", "distributor_code", metavar="CODE", help="Only alerts about this distributor.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (newest first).")
@config_option
@db_option
@format_option("table", "json")
def list_(
    *,
    open_only: bool,
    rule: str | None,
    distributor_code: str | None,
    limit: int | None,
    config_path: str,
    db_url: str,
    fmt: str,
) -> None:
    """Alerts, newest first: open ones and, unless --open, resolved ones too. Times in the config's time zone
    (tables) or ISO UTC (JSON, which also carries each alert's details)."""
    from storage.engine import make_engine, session_scope
    from storage.queries.alerts import list_alerts
    from storage.queries.reports import require_distributor

    tz = table_zone(fmt, config_path)
    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            if distributor_code is not None:
                require_distributor(session, distributor_code)
            views = list_alerts(session, open_only=open_only, rule=rule, distributor_code=distributor_code, limit=limit)
            rows = [_row(view, tz) for view in views]
    finally:
        engine.dispose()
    emit(rows, fmt, LIST_COLUMNS, title=(f"Оповещений: {len(rows)}", f"{len(rows)} alert(s)"))


@cli.command()
@click.argument("alert_id", type=int, metavar="ID")
@config_option
@db_option
@format_option("table", "json")
def show(*, alert_id: int, config_path: str, db_url: str, fmt: str) -> None:
    """One alert: its details and every event (opened, ongoing, resolved) with what it said then."""
    from storage.engine import make_engine, session_scope
    from storage.queries.alerts import get_alert

    tz = table_zone(fmt, config_path)
    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            view = get_alert(session, alert_id)
            if view is None:
                raise UserError(f"alert {alert_id}: no such alert (see `pricewatch alerts list`)")
            row = _row(view, tz)
            events = [
                {
                    "id": e.id,
                    "kind": e.kind.value,
                    "at": local_when(e.at, tz),
                    "rules_run_id": e.rules_run_id,
                    "severity": e.payload.get("severity"),
                    "subject": e.payload.get("subject"),
                    "payload": e.payload,
                }
                for e in view.events
            ]
    finally:
        engine.dispose()
    if fmt == "json":
        click.echo(to_json(row | {"events": events}))
        return
    fields = [{"field": k, "value": v} for k, v in row.items() if k != "details"]
    fields += [
        {"field": f"details.{k}", "value": to_json(v) if isinstance(v, list | dict) else v}
        for k, v in row["details"].items()
    ]
    emit(fields, fmt, [("field", "field"), ("value", "value")], title=(f"Оповещение {alert_id}", f"alert {alert_id}"))
    emit(events, fmt, [("id", "id"), ("kind", "event"), ("at", "at"), ("severity", "severity"), ("subject", "subject")])
