"""Which alert events go to whom: config routes and the bot's mutes turned into outbox rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from crawler.config import Config, Route
from storage.models import Alert, AlertEvent, EventKind, Mute, OutboxStatus, utcnow
from storage.queries import outbox as q
from storage.queries.observations import Reading, current_readings

TELEGRAM = "telegram"
EMAIL = "email"


def alert_snapshot(
    alert: Alert,
    *,
    kind: str,
    at: dt.datetime,
    event_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a message needs, frozen at the event (its payload wins over the alert's current state)."""
    payload = payload or {}
    return {
        "alert_id": alert.id,
        "event_id": event_id,
        "kind": str(kind),
        "rule": alert.rule,
        "severity": payload.get("severity", alert.severity),
        "subject": payload.get("subject", alert.subject),
        "details": payload.get("details", alert.details) or {},
        "at": at.isoformat(),
        "opened_at": alert.opened_at.isoformat() if alert.opened_at else None,
    }


def event_snapshot(alert: Alert, event: AlertEvent) -> dict[str, Any]:
    """The outbox row's payload: the row renders from this alone."""
    return alert_snapshot(alert, kind=event.kind, at=event.at, event_id=event.id, payload=event.payload)


def with_current(snapshot: dict[str, Any], reading: Reading | None) -> dict[str, Any]:
    """A resolved alert's snapshot with what its listing says now (the details hold the violation's reading)."""
    if reading is None:
        return snapshot
    now = {
        "current_price": str(reading.price) if reading.price is not None else None,
        "current_currency": reading.currency,
        "current_stock": str(reading.stock),
        "current_observed_at": reading.observed_at.isoformat(),
    }
    return {**snapshot, "details": {**snapshot["details"], **now}}


def _distributor_codes(session: Session, alert: Alert, details: dict[str, Any]) -> set[str]:
    """The distributors an alert is about; a regional shortage is about every distributor it names."""
    codes = {str(c) for c in details.get("distributors") or []}
    code = details.get("distributor_code")
    if code is None and alert.distributor_id is not None:
        code = q.distributor_code(session, alert.distributor_id)
    if code:
        codes.add(str(code))
    return codes


def route_wants(route: Route, rule: str, severity: str, distributors: set[str], category: str | None) -> bool:
    """An empty filter list means any; a filter on a field the alert lacks does not match."""
    m = route.match
    return (
        (not m.rules or rule in m.rules)
        and (not m.severities or severity in m.severities)
        and (not m.distributors or bool(distributors.intersection(m.distributors)))
        and (not m.categories or category in m.categories)
    )


def is_muted(mutes: Iterable[Mute], chat_id: str, rule: str, distributors: set[str]) -> bool:
    for mute in mutes:
        if mute.chat_id != chat_id or (mute.rule is None and mute.distributor_code is None):
            continue
        if (mute.rule is None or mute.rule == rule) and (
            mute.distributor_code is None or mute.distributor_code in distributors
        ):
            return True
    return False


def _outbox_row(
    event: AlertEvent,
    channel: str,
    recipient: str,
    *,
    mode: str,
    snapshot: dict[str, Any],
    now: dt.datetime,
    due: dt.datetime,
) -> dict[str, Any]:
    key = f"{event.id}:{channel}:{recipient}"
    return {
        "dedup_key": key,
        "event_id": event.id,
        "channel": channel,
        "recipient": recipient,
        "mode": mode,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": now,
        "payload": snapshot,
    }


def _targets(route: Route, mutes: Iterable[Mute], rule: str, distributors: set[str]) -> list[tuple[str, str]]:
    targets = [(TELEGRAM, chat) for chat in route.telegram if not is_muted(mutes, chat, rule, distributors)]
    return targets + [(EMAIL, address) for address in route.email]


def _rows(
    session: Session, config: Config, alert: Alert, event: AlertEvent, now: dt.datetime, *, current: Reading | None
) -> list[dict[str, Any]]:
    """The outbox rows the routes want for one event (before de-duplication against what is queued); `current`: the
    listing's latest reading, for a resolved event."""
    snapshot = with_current(event_snapshot(alert, event), current)
    severity, details = str(snapshot["severity"]), snapshot["details"]
    distributors = _distributor_codes(session, alert, details)
    category = details.get("category")
    wanted = [r for r in config.routes if route_wants(r, alert.rule, severity, distributors, category)]
    mutes = q.mutes(session) if any(r.telegram for r in wanted) else []
    rows: dict[str, dict[str, Any]] = {}
    for route in wanted:
        if route.mode == "instant" and event.kind == EventKind.ONGOING:
            continue
        for channel, recipient in _targets(route, mutes, alert.rule, distributors):
            row = _outbox_row(event, channel, recipient, mode=route.mode, snapshot=snapshot, now=now, due=now)
            rows.setdefault(row["dedup_key"], row)
    return list(rows.values())


def enqueue_events(session: Session, config: Config, events: Iterable[tuple[Alert, AlertEvent]]) -> int:
    """`enqueue_event` for many events at once: the same rows, written in a few multi-row statements."""
    if not config.routes:
        return 0
    pairs = list(events)
    if any(event.id is None or event.at is None for _, event in pairs):
        session.flush()  # events need their ids and times
    now = utcnow()
    resolved = [a.listing_id for a, e in pairs if e.kind == EventKind.RESOLVED and a.listing_id is not None]
    readings = current_readings(session, resolved)
    rows = [
        row
        for alert, event in pairs
        for row in _rows(session, config, alert, event, now, current=_current(readings, alert, event))
    ]
    return q.insert_ignore(session, rows)


def _current(readings: dict[int, Reading], alert: Alert, event: AlertEvent) -> Reading | None:
    if event.kind != EventKind.RESOLVED or alert.listing_id is None:
        return None
    return readings.get(alert.listing_id)


def enqueue_event(session: Session, config: Config, alert: Alert, event: AlertEvent) -> int:
    """Queue one outbox row per (event, channel, recipient) that a route wants; returns how many were new.

    The dedup key `<event id>:<channel>:<recipient>` is unique, so an event is never queued twice for one
    recipient — not by a re-run, and not by two routes naming the same recipient (the first route's mode wins).
    Ongoing events only count in digests, so instant routes skip them.
    """
    return enqueue_events(session, config, [(alert, event)])


def admin_targets(config: Config) -> list[tuple[str, str]]:
    """Who hears of pricewatch's own failures at once: the recipients of the instant routes that want a critical
    crawler-health alert (pilot.yaml: the admin's chat and address)."""
    targets: list[tuple[str, str]] = []
    for route in config.routes:
        if route.mode == "instant" and route_wants(route, "crawler_health", "critical", set(), None):
            targets += _targets(route, (), "crawler_health", set())
    return list(dict.fromkeys(targets))


def enqueue_delivery_alert(
    session: Session,
    config: Config,
    alert: Alert,
    event: AlertEvent,
    *,
    due: dt.datetime,
    excluded: Callable[[str, str], bool],
) -> int:
    """Queue the admin's alert of a delivery failure to every admin target but the `excluded` ones (the channel or
    recipient that failed: an alert about a dead channel never goes to it), due at `due`; returns how many."""
    snapshot = event_snapshot(alert, event)
    now = utcnow()
    rows = [
        _outbox_row(event, channel, recipient, mode="instant", snapshot=snapshot, now=now, due=due)
        for channel, recipient in admin_targets(config)
        if not excluded(channel, recipient)
    ]
    return q.insert_ignore(session, rows)
