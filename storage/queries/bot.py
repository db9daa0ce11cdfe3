"""What the Telegram bot asks: crawl status, open violations, a SKU's latest offers, mutes, alert feedback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Integer, Row, String, case, column, delete, func, select, table
from sqlalchemy.orm import Session

from storage.models import MONEY, Alert, AlertStatus, CrawlRun, Distributor, Mute, Product, UTCDateTime
from storage.queries.outbox import forget_mutes

# The BI view (migration 0006): the same latest offer per listing as `observations.latest_observations()`, with the
# RRP in force today, which is what a manager asking the bot now wants to compare with.
_LATEST_OFFERS = table(
    "v_latest_offers",
    column("listing_id", Integer),
    column("distributor_code", String),
    column("distributor_name", String),
    column("seller_name", String),
    column("url", String),
    column("vendor_code", String),
    column("price", MONEY),
    column("currency", String),
    column("stock", String),
    column("quantity", Integer),
    column("observed_at", UTCDateTime()),
    column("rrp", MONEY),
)


def last_runs(session: Session) -> list[tuple[Distributor, CrawlRun | None]]:
    """Every distributor with its most recent crawl run (None when it was never crawled)."""
    latest = (
        select(CrawlRun.distributor_id, func.max(CrawlRun.id).label("run_id"))
        .group_by(CrawlRun.distributor_id)
        .subquery()
    )
    query = (
        select(Distributor, CrawlRun)
        .outerjoin(latest, latest.c.distributor_id == Distributor.id)
        .outerjoin(CrawlRun, CrawlRun.id == latest.c.run_id)
        .order_by(Distributor.code)
    )
    return [(d, r) for d, r in session.execute(query).tuples()]


def open_alerts(
    session: Session,
    rules: Collection[str],
    distributor_code: str | None = None,
    limit: int = 50,
    distributor_codes: Collection[str] | None = None,
) -> tuple[list[Alert], int]:
    """Open alerts of these rules (of one distributor, or of `distributor_codes`), most severe and newest first, and
    how many there are."""
    where = [Alert.status == AlertStatus.OPEN, Alert.rule.in_(list(rules))]
    query = select(Alert)
    codes = [distributor_code] if distributor_code is not None else distributor_codes
    if codes is not None:
        query = query.join(Distributor, Distributor.id == Alert.distributor_id)
        where.append(Distributor.code.in_(list(codes)))
    total = session.scalar(query.with_only_columns(func.count(Alert.id)).where(*where)) or 0
    severity_rank = case({"critical": 0, "warning": 1, "info": 2}, value=Alert.severity, else_=3)
    alerts = session.scalars(query.where(*where).order_by(severity_rank, Alert.opened_at.desc()).limit(limit))
    return list(alerts), int(total)


def product_by_code(session: Session, vendor_code_norm: str) -> Product | None:
    return session.scalar(select(Product).where(Product.vendor_code_norm == vendor_code_norm).limit(1))


def latest_offers_of(session: Session, vendor_code: str) -> Sequence[Row[Any]]:
    """The latest offer of every listing matched to the product, cheapest first (the `v_latest_offers` view)."""
    v = _LATEST_OFFERS.c
    query = (
        select(_LATEST_OFFERS)
        .where(v.vendor_code == vendor_code)
        .order_by(v.price.is_(None), v.price, v.distributor_code, v.seller_name)
    )
    return session.execute(query).all()


def add_mute(session: Session, chat_id: str, rule: str | None, distributor_code: str | None) -> bool:
    """Mute for one chat; False when that mute already exists."""
    exists = session.scalar(
        select(Mute.id).where(
            Mute.chat_id == chat_id,
            Mute.rule.is_(None) if rule is None else Mute.rule == rule,
            Mute.distributor_code.is_(None) if distributor_code is None else Mute.distributor_code == distributor_code,
        )
    )
    if exists is not None:
        return False
    session.add(Mute(chat_id=chat_id, rule=rule, distributor_code=distributor_code))
    session.flush()
    forget_mutes(session)
    return True


def remove_mutes(session: Session, chat_id: str, rule: str | None = None, distributor_code: str | None = None) -> int:
    """Unmute a chat: the mutes on this rule / distributor, or all its mutes when neither is given."""
    stmt = delete(Mute).where(Mute.chat_id == chat_id)
    if rule is not None:
        stmt = stmt.where(Mute.rule == rule)
    if distributor_code is not None:
        stmt = stmt.where(Mute.distributor_code == distributor_code)
    removed = int(cast(CursorResult[Any], session.execute(stmt)).rowcount)
    forget_mutes(session)
    return removed


def chat_mutes(session: Session, chat_id: str) -> list[Mute]:
    return list(session.scalars(select(Mute).where(Mute.chat_id == chat_id).order_by(Mute.id)))


def record_feedback(session: Session, alert_id: int, verdict: str, by: str, at: dt.datetime) -> Alert | None:
    alert = session.get(Alert, alert_id)
    if alert is None:
        return None
    alert.feedback, alert.feedback_by, alert.feedback_at = verdict, by, at
    session.flush()
    return alert
