"""`pricewatch cases`: violation cases and their notices — list, show, notify (the ladder now, or one case's next
step), approve, ack, close, and the notice log."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from pricewatch.cli.common import (
    config_option,
    db_option,
    emit,
    format_option,
    get_config,
    local_when,
    table_zone,
    to_json,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from storage.models import Notice
    from storage.queries.cases import CaseView, NoticeView

LIST_COLUMNS = [
    ("id", "case"),
    ("status", "status"),
    ("distributor", "distributor"),
    ("seller", "seller"),
    ("opened_at", "detected"),
    ("repeat_number", "relapse"),
    ("listings_open", "open listings"),
    ("step", "step"),
    ("deadline", "deadline"),
    ("fixed_on", "fixed on"),
]
NOTICE_COLUMNS = [
    ("case_id", "case"),
    ("kind", "notice"),
    ("channel", "channel"),
    ("recipient", "to"),
    ("due_at", "issued"),
    ("deadline", "deadline"),
    ("delivery", "delivery"),
    ("sent_at", "sent"),
]
PREVIEW_COLUMNS = [
    ("case_id", "case"),
    ("kind", "notice"),
    ("channel", "channel"),
    ("recipient", "to"),
    ("due_at", "goes at"),
    ("deadline", "deadline"),
    ("text", "message"),
]
STEPS = {0: "—", 1: "first notice", 2: "second notice", 3: "escalated"}


@click.group()
def cli() -> None:
    """Violation cases: one per seller and episode, from detection through notices and escalation to the fix."""


def _by() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


def _case_row(view: CaseView, tz: ZoneInfo | None) -> dict[str, Any]:
    c = view.case
    return {
        "id": c.id,
        "status": c.status.value,
        "distributor": view.distributor_code,
        "seller": view.seller_name,
        "seller_code": view.seller_code,
        "legal_name": view.legal_name,
        "tax_id": view.tax_id,
        "opened_at": local_when(c.opened_at, tz),
        "repeat_of": c.repeat_of_id,
        "repeat_number": c.repeat_number or None,
        "listings": view.listings,
        "listings_open": view.listings_open,
        "step": STEPS.get(c.step, str(c.step)) if tz is not None else c.step,
        "deadline": local_when(c.deadline, tz),
        "approved_by": c.approved_by,
        "approved_at": local_when(c.approved_at, tz),
        "acknowledged_at": local_when(c.acknowledged_at, tz),
        "escalated_at": local_when(c.escalated_at, tz),
        "fixed_on": local_when(c.fixed_on, tz),
        "hours_to_fix": c.hours_to_fix,
        "closed_by": c.closed_by,
        "close_note": c.close_note,
    }


def _notice_row(view: NoticeView, tz: ZoneInfo | None) -> dict[str, Any]:
    n = view.notice
    return {
        "id": n.id,
        "case_id": n.case_id,
        "distributor": view.distributor_code,
        "seller": view.seller_name,
        "kind": n.kind.value,
        "channel": n.channel,
        "recipient": n.recipient,
        "person": n.person,
        "due_at": local_when(n.due_at, tz),
        "deadline": local_when(n.deadline, tz),
        "delivery": view.delivery,
        "sent_at": local_when(view.sent_at, tz),
        "subject": n.subject,
        "text": n.text,
        "evidence": n.evidence,
    }


def _preview_row(notice: Notice, tz: ZoneInfo | None) -> dict[str, Any]:
    return {
        "case_id": notice.case_id,
        "kind": notice.kind.value,
        "channel": notice.channel,
        "recipient": notice.recipient,
        "due_at": local_when(notice.due_at, tz),
        "deadline": local_when(notice.deadline, tz),
        "subject": notice.subject,
        "text": notice.text if tz is None else (notice.subject or notice.text.splitlines()[0]),
        "full_text": notice.text,
    }


@contextmanager
def _database(db_url: str, *, dry_run: bool = False) -> Iterator[Session]:
    """One transaction on the database: committed, or (a dry run) rolled back whatever it wrote."""
    from storage.engine import make_engine, session_factory, session_scope

    engine: Engine = make_engine(db_url, create=False)
    try:
        if not dry_run:
            with session_scope(engine) as session:
                yield session
            return
        with session_factory(engine)() as session:
            try:
                yield session
            finally:
                session.rollback()
    finally:
        engine.dispose()


@cli.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only open cases.")
@click.option("--distributor", "distributors", multiple=True, metavar="CODE", help="Only this distributor's.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (in order of detection).")
@config_option
@db_option
@format_option("table", "json")
def list_(
    *, open_only: bool, distributors: tuple[str, ...], limit: int | None, config_path: str, db_url: str, fmt: str
) -> None:
    """Cases in order of detection — the order their notices go in. Times in the config's time zone (tables) or
    ISO UTC (JSON)."""
    from storage.queries.cases import list_cases

    tz = table_zone(fmt, config_path)
    with _database(db_url) as session:
        views = list_cases(session, open_only=open_only, distributor_codes=distributors or None, limit=limit)
        rows = [_case_row(v, tz) for v in views]
    emit(rows, fmt, LIST_COLUMNS, title=f"{len(rows)} case(s)")


@cli.command()
@click.argument("case_id", type=int, metavar="ID")
@config_option
@db_option
@format_option("table", "json")
def show(*, case_id: int, config_path: str, db_url: str, fmt: str) -> None:
    """One case: who it is about, its listings and every notice (to whom, when, delivered or not)."""
    from crawler.errors import UserError
    from storage.queries.cases import case_items, get_case, notices

    tz = table_zone(fmt, config_path)
    with _database(db_url) as session:
        view = get_case(session, case_id)
        if view is None:
            raise UserError(f"case {case_id}: no such case (see `pricewatch cases list`)")
        row = _case_row(view, tz)
        listings = [
            {
                "alert_id": i.alert_id,
                "rule": i.rule,
                "vendor_code": i.details.get("vendor_code"),
                "price": i.details.get("price"),
                "rrp": i.details.get("rrp"),
                "url": i.url,
                "detected_at": local_when(i.detected_at, tz),
                "fixed_at": local_when(i.fixed_at, tz),
            }
            for i in case_items(session, [case_id]).get(case_id, [])
        ]
        sent = [_notice_row(n, tz) for n in notices(session, case_id=case_id)]
    if fmt == "json":
        click.echo(to_json(row | {"listings": listings, "notices": sent}))
        return
    emit([{"field": k, "value": v} for k, v in row.items()], fmt, [("field", "field"), ("value", "value")])
    emit(listings, fmt, title="listings")
    emit(sent, fmt, NOTICE_COLUMNS, title="notices")


def _emit_preview(notices: list[dict[str, Any]], fmt: str, dry_run: bool, line: str) -> None:
    verb = "would queue" if dry_run else "queued"
    if fmt == "json":
        click.echo(to_json({"dry_run": dry_run, "summary": line, "notices": notices}))
        return
    emit(notices, fmt, PREVIEW_COLUMNS, title=f"{verb} {len(notices)} notice(s); {line}")


@cli.command()
@click.argument("case_id", type=int, metavar="[ID]", required=False)
@click.option("--dry-run", is_flag=True, help="Show every notice that would go, and write nothing.")
@click.option("--by", "by", metavar="NAME", help="Who approves a first notice sent this way [default: cli:<user>].")
@config_option
@db_option
@format_option("table", "json")
def notify(*, case_id: int | None, dry_run: bool, by: str | None, config_path: str, db_url: str, fmt: str) -> None:
    """Without ID: what the daily run does after the rules — open and fix cases, take each one a step up the
    ladder if one is due. With ID: that case's next step now (a first notice waiting for approval counts as
    approved by you). The notices are queued; `pricewatch notify flush` (or the daily run) delivers them."""
    from enforcement import run as enforcement
    from storage.models import utcnow

    config = get_config(config_path)
    tz = None if fmt == "json" else config.tz
    with _database(db_url, dry_run=dry_run) as session:
        if case_id is None:
            report = enforcement.daily_step(session, config, now=utcnow())
            notices, line = report.notices, report.line()
        else:
            outcome = enforcement.notify(session, config, case_id, by=by or _by(), now=utcnow())
            notices, line = outcome.notices, f"case {case_id}"
        rows = [_preview_row(n, tz) for n in notices]
    _emit_preview(rows, fmt, dry_run, line)


@cli.command()
@click.argument("case_id", type=int, metavar="ID")
@click.option("--by", "by", metavar="NAME", help="Who approves [default: cli:<user>].")
@config_option
@db_option
@format_option("table", "json")
def approve(*, case_id: int, by: str | None, config_path: str, db_url: str, fmt: str) -> None:
    """Approve a case's first notice (what the Telegram button does); it is queued at once."""
    from enforcement import run as enforcement
    from storage.models import utcnow

    config = get_config(config_path)
    tz = None if fmt == "json" else config.tz
    with _database(db_url) as session:
        outcome = enforcement.approve(session, config, case_id, by=by or _by(), now=utcnow())
        rows = [_preview_row(n, tz) for n in outcome.notices]
    line = f"case {case_id} approved"
    if outcome.held:
        line += "; its distributor's latest crawl is not healthy: the notice goes after a healthy one"
    elif outcome.without_contact:
        line += "; the seller has no contact yet: the notice goes once one is added"
    _emit_preview(rows, fmt, False, line)


@cli.command()
@click.argument("case_id", type=int, metavar="ID")
@click.option("--by", "by", metavar="NAME", help="Who recorded the answer [default: cli:<user>].")
@db_option
def ack(*, case_id: int, by: str | None, db_url: str) -> None:
    """Record that the seller answered a notice (its deadlines still run)."""
    from enforcement import run as enforcement
    from storage.models import utcnow

    with _database(db_url) as session:
        enforcement.acknowledge(session, case_id, by=by or _by(), now=utcnow())
    click.echo(f"case {case_id}: acknowledged")


@cli.command()
@click.argument("case_id", type=int, metavar="ID")
@click.option("--note", required=True, help="Why it is closed (an agreement, a false alarm…).")
@click.option("--by", "by", metavar="NAME", help="Who closes it [default: cli:<user>].")
@db_option
def close(*, case_id: int, note: str, by: str | None, db_url: str) -> None:
    """Close a case by hand; its notices not yet sent are taken back. (A case the crawl sees fixed closes by
    itself, as `fixed`.)"""
    from enforcement import run as enforcement
    from storage.models import utcnow

    with _database(db_url) as session:
        enforcement.close(session, case_id, by=by or _by(), note=note, now=utcnow())
    click.echo(f"case {case_id}: closed")


@cli.command()
@click.option("--distributor", "distributors", multiple=True, metavar="CODE", help="Only this distributor's.")
@config_option
@db_option
@format_option("table", "json")
def log(*, distributors: tuple[str, ...], config_path: str, db_url: str, fmt: str) -> None:
    """Every notice, in the order its case was detected: to whom, when, delivered or not (JSON: with its text
    and evidence) — the record that every distributor was treated alike."""
    from storage.queries.cases import notices

    tz = table_zone(fmt, config_path)
    with _database(db_url) as session:
        rows = [_notice_row(n, tz) for n in notices(session, distributor_codes=distributors or None)]
    emit(rows, fmt, NOTICE_COLUMNS, title=f"{len(rows)} notice(s)")
