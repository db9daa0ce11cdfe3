"""The outbox: queue rows once (insert-ignore on the dedup key), claim due rows under a lease, record outcomes; the
alerts of delivery failure episodes."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import uuid
from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

import psutil
from sqlalchemy import JSON, CursorResult, Executable, and_, bindparam, delete, func, or_, select, text, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement, TextClause

from storage.models import (
    Alert,
    AlertEvent,
    AlertStatus,
    Distributor,
    EventKind,
    Mute,
    Outbox,
    OutboxStatus,
    UTCDateTime,
)

# The rule of the alerts pricewatch raises about its own delivery (a refused bot token, SMTP login or chat).
DELIVERY_RULE = "delivery"

_QUEUED_COLUMNS = (
    "dedup_key", "event_id", "channel", "recipient", "mode", "status", "attempts", "next_attempt_at", "created_at",
    "payload",
)  # fmt: skip
_QUEUED_TYPES = {"next_attempt_at": UTCDateTime(), "created_at": UTCDateTime(), "payload": JSON()}


_INSERT_CHUNK = 100  # rows per statement; statements for 1…100 rows are built once each


@lru_cache(maxsize=_INSERT_CHUNK)
def _insert_ignore(count: int) -> TextClause:
    """`INSERT … ON CONFLICT (dedup_key) DO NOTHING RETURNING id` for `count` rows, in SQL both dialects read.

    Plain SQL because SQLAlchemy never caches its dialects' `insert().on_conflict_do_nothing()`, and compiling
    that anew for every alert event was most of what queueing cost.
    """
    values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in _QUEUED_COLUMNS) + ")" for i in range(count))
    # Only constant names and placeholders go into the text; every value is a bound parameter.
    sql = f"INSERT INTO outbox ({', '.join(_QUEUED_COLUMNS)}) VALUES {values} ON CONFLICT (dedup_key) DO NOTHING"  # noqa: S608
    return text(sql + " RETURNING id").bindparams(
        *(bindparam(f"{c}_{i}", type_=t) for c, t in _QUEUED_TYPES.items() for i in range(count))
    )


def insert_ignore(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Queue outbox rows (keys: `_QUEUED_COLUMNS`), skipping any whose dedup_key is already queued; returns how
    many were new."""
    queued = 0
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start : start + _INSERT_CHUNK]
        params = {f"{c}_{i}": row[c] for i, row in enumerate(chunk) for c in _QUEUED_COLUMNS}
        queued += len(session.execute(_insert_ignore(len(chunk)), params).all())
    return queued


def distributor_code(session: Session, distributor_id: int) -> str | None:
    return session.scalar(select(Distributor.code).where(Distributor.id == distributor_id))


_MUTES_KEY = "pricewatch.mutes"


def mutes(session: Session) -> list[Mute]:
    """Every mute, read once per transaction: a rules run routes thousands of events in one."""
    transaction = session.get_transaction()
    cached = session.info.get(_MUTES_KEY)
    if cached is not None and cached[0] is transaction:
        return list(cached[1])
    rows = list(session.scalars(select(Mute)))
    session.info[_MUTES_KEY] = (transaction, rows)
    return rows


def forget_mutes(session: Session) -> None:
    """Drop the per-transaction copy after mutes changed in this session."""
    session.info.pop(_MUTES_KEY, None)


# A claim names its flush process (pid and start time) and host (hashed, to fit the column), so that the next flush
# can see that a claimer was killed and take its rows over at once instead of after the lease.
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:16]


def claim_token() -> str:
    """A new flush's claim on the rows it sends: `<random>:<pid>:<process start>:<host hash>`."""
    started = int(psutil.Process().create_time())
    return f"{uuid.uuid4().hex[:8]}:{os.getpid()}:{started}:{_HOST}"


def claimer_gone(token: str) -> bool:
    """True when the claim's flush process is no longer alive on this host (another host's: the lease decides)."""
    parts = token.split(":")
    if len(parts) != 4 or parts[3] != _HOST or not parts[1].isdigit():
        return False
    try:
        process = psutil.Process(int(parts[1]))
        return process.status() == psutil.STATUS_ZOMBIE or str(int(process.create_time())) != parts[2]
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:
        return False


def _dead_claims(session: Session, channels: Collection[str], modes: Collection[str], cutoff: dt.datetime) -> list[str]:
    """Claims still under lease whose flush died (kill -9, a crash): their rows were never sent or not recorded."""
    held = session.scalars(
        select(Outbox.claimed_by)
        .where(
            Outbox.channel.in_(list(channels)),
            Outbox.mode.in_(list(modes)),
            Outbox.status == OutboxStatus.SENDING,
            Outbox.locked_until >= cutoff,
            Outbox.claimed_by.is_not(None),
        )
        .distinct()
    )
    return [token for token in held if token is not None and claimer_gone(token)]


def _due(
    channels: Collection[str], modes: Collection[str], cutoff: dt.datetime, dead: Collection[str] = ()
) -> ColumnElement[bool]:
    """Pending rows whose time has come, and rows left in `sending` by a flush whose lease ran out or who died."""
    taken_over = [and_(Outbox.status == OutboxStatus.SENDING, Outbox.locked_until < cutoff)]
    if dead:
        taken_over.append(and_(Outbox.status == OutboxStatus.SENDING, Outbox.claimed_by.in_(list(dead))))
    return and_(
        Outbox.channel.in_(list(channels)),
        Outbox.mode.in_(list(modes)),
        or_(and_(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= cutoff), *taken_over),
    )


def _begin_write(session: Session) -> bool:
    """On SQLite take the write lock first (`BEGIN IMMEDIATE`; the first statement of the transaction), so that
    what is read next cannot change before it is written; returns whether the database is PostgreSQL."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    if not postgresql:
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    return postgresql


def claim_due(
    session: Session,
    *,
    channels: Collection[str],
    modes: Collection[str],
    cutoff: dt.datetime,
    lease_until: dt.datetime,
    token: str,
    limit: int | None,
) -> list[Outbox]:
    """Mark due rows `sending` with a lease held by `token`; the caller commits before sending anything.

    Must be the first statement of the session's transaction. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
    concurrent flushes take disjoint rows. SQLite: `BEGIN IMMEDIATE` takes the single write lock before
    reading, so a second flush waits and then sees the rows already claimed.
    """
    if not channels or not modes:
        return []
    postgresql = _begin_write(session)
    dead = _dead_claims(session, channels, modes, cutoff)
    query = select(Outbox).where(_due(channels, modes, cutoff, dead)).order_by(Outbox.id)
    if limit is not None:
        query = query.limit(limit)
    if postgresql:
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.status = OutboxStatus.SENDING
        row.locked_until = lease_until
        row.claimed_by = token
    session.flush()
    return rows


def due_rows(
    session: Session, *, channels: Collection[str], modes: Collection[str], cutoff: dt.datetime
) -> list[Outbox]:
    """Due rows without claiming them (for a dry run)."""
    if not channels or not modes:
        return []
    dead = _dead_claims(session, channels, modes, cutoff)
    return list(session.scalars(select(Outbox).where(_due(channels, modes, cutoff, dead)).order_by(Outbox.id)))


def count_due(
    session: Session, *, channels: Collection[str], modes: Collection[str], cutoff: dt.datetime
) -> dict[str, int]:
    """Due rows per channel."""
    if not channels or not modes:
        return {}
    due = _due(channels, modes, cutoff, _dead_claims(session, channels, modes, cutoff))
    query = select(Outbox.channel, func.count()).where(due).group_by(Outbox.channel)
    return {channel: int(n) for channel, n in session.execute(query)}


def _rowcount(session: Session, stmt: Executable) -> int:
    result = cast(CursorResult[Any], session.execute(stmt))
    return int(result.rowcount)


def _held(ids: Collection[int], token: str) -> ColumnElement[bool]:
    return and_(Outbox.id.in_(list(ids)), Outbox.status == OutboxStatus.SENDING, Outbox.claimed_by == token)


def record_sent(
    session: Session, rows: Collection[tuple[int, str]], *, at: dt.datetime, provider_message_id: str
) -> int:
    """Record that the provider accepted the rows `(id, dedup key)`, whoever holds their claim (it is the truth, and
    the sent-journal may bring it after the claim was lost); rows already sent stay as they are. Returns how many
    changed."""
    if not rows:
        return 0
    stmt = (
        update(Outbox)
        .where(tuple_(Outbox.id, Outbox.dedup_key).in_(list(rows)), Outbox.status != OutboxStatus.SENT)
        .values(
            status=OutboxStatus.SENT,
            sent_at=at,
            provider_message_id=provider_message_id,
            attempts=Outbox.attempts + 1,
            locked_until=None,
            claimed_by=None,
        )
    )
    return _rowcount(session, stmt)


def flag_repeat(session: Session, rows: Collection[tuple[int, str]]) -> int:
    """Mark rows `(id, dedup key)` whose last try may have reached the recipient unheard (a timeout, a flush killed
    while waiting for the answer): their next send carries the "repeat" mark. Returns how many were flagged."""
    if not rows:
        return 0
    query = select(Outbox).where(
        tuple_(Outbox.id, Outbox.dedup_key).in_(list(rows)), Outbox.status != OutboxStatus.SENT
    )
    flagged = 0
    for row in session.scalars(query):
        if not (row.payload or {}).get("repeat"):
            row.payload = {**(row.payload or {}), "repeat": True}
            flagged += 1
    session.flush()
    return flagged


def mark_failed(
    session: Session,
    ids: Collection[int],
    token: str,
    *,
    dead: bool,
    next_attempt_at: dt.datetime,
    last_error: str,
    count_attempt: bool = True,
) -> int:
    """Put rows back for a later try (or to `dead`) with the reason; `attempts` counts tries made (not a wait the
    provider asked for, nor a refusal the admin must fix)."""
    stmt = (
        update(Outbox)
        .where(_held(ids, token))
        .values(
            status=OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
            attempts=Outbox.attempts + 1 if count_attempt else Outbox.attempts,
            next_attempt_at=next_attempt_at,
            last_error=last_error,
            locked_until=None,
            claimed_by=None,
        )
    )
    return _rowcount(session, stmt)


def release(session: Session, ids: Collection[int], token: str, next_attempt_at: dt.datetime) -> int:
    """Give claimed rows back untried (their recipient is backing off, or the lease is nearly spent)."""
    stmt = (
        update(Outbox)
        .where(_held(ids, token))
        .values(status=OutboxStatus.PENDING, next_attempt_at=next_attempt_at, locked_until=None, claimed_by=None)
    )
    return _rowcount(session, stmt)


def withdraw(session: Session, ids: Collection[int], token: str) -> int:
    """Remove claimed rows unsent: an admin alert about a delivery failure that ended before it could go."""
    return _rowcount(session, delete(Outbox).where(_held(ids, token)))


def open_delivery_fingerprints(session: Session) -> set[str]:
    """The delivery failure episodes still open."""
    query = select(Alert.fingerprint).where(Alert.rule == DELIVERY_RULE, Alert.status == AlertStatus.OPEN)
    return set(session.scalars(query))


def open_delivery_alert(
    session: Session, *, fingerprint: str, subject: str, details: dict[str, Any], now: dt.datetime
) -> tuple[Alert, AlertEvent] | None:
    """Open the alert of a delivery failure episode with its `opened` event; None while one is open already.

    Must be the first statement of the session's transaction (SQLite takes the write lock first); two flushes
    opening one episode at once on PostgreSQL meet the open-fingerprint index (IntegrityError for the second).
    """
    _begin_write(session)
    held = select(Alert.id).where(Alert.fingerprint == fingerprint, Alert.status == AlertStatus.OPEN)
    if session.scalar(held) is not None:
        return None
    alert = Alert(
        rule=DELIVERY_RULE,
        fingerprint=fingerprint,
        severity="critical",
        subject=subject,
        details=details,
        opened_at=now,
        last_seen_at=now,
    )
    session.add(alert)
    session.flush()
    event = AlertEvent(alert_id=alert.id, kind=EventKind.OPENED, at=now, payload={})
    session.add(event)
    session.flush()
    return alert, event


def resolve_delivery_alerts(session: Session, fingerprints: Collection[str], now: dt.datetime) -> int:
    """End the episodes (delivery works again), each with its `resolved` event; returns how many ended."""
    query = select(Alert).where(
        Alert.rule == DELIVERY_RULE, Alert.status == AlertStatus.OPEN, Alert.fingerprint.in_(list(fingerprints))
    )
    ended = list(session.scalars(query))
    for alert in ended:
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = now
        session.add(AlertEvent(alert_id=alert.id, kind=EventKind.RESOLVED, at=now, payload={}))
    session.flush()
    return len(ended)


def alert_is_open(session: Session, alert_id: int) -> bool:
    return session.scalar(select(Alert.status).where(Alert.id == alert_id)) == AlertStatus.OPEN
