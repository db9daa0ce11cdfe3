"""Alerts as people look them up: listed with filters, or one with its events."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.orm import Session

from storage.models import Alert, AlertEvent, AlertStatus, Distributor


@dataclass(frozen=True)
class AlertView:
    alert: Alert
    distributor_code: str | None
    events: tuple[AlertEvent, ...] = ()


def list_alerts(
    session: Session,
    *,
    open_only: bool = False,
    rule: str | None = None,
    distributor_code: str | None = None,
    limit: int | None = None,
) -> list[AlertView]:
    """Newest first. A distributor filter also finds regional alerts that name the distributor."""
    query = select(Alert, Distributor.code).outerjoin(Distributor, Distributor.id == Alert.distributor_id)
    if open_only:
        query = query.where(Alert.status == AlertStatus.OPEN)
    if rule is not None:
        query = query.where(Alert.rule == rule)
    if distributor_code is not None:
        named = cast(Alert.details, String).contains(f'"{distributor_code}"', autoescape=True)
        query = query.where(or_(Distributor.code == distributor_code, and_(Alert.distributor_id.is_(None), named)))
    query = query.order_by(Alert.opened_at.desc(), Alert.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [AlertView(alert, code) for alert, code in session.execute(query).tuples()]


def get_alert(session: Session, alert_id: int) -> AlertView | None:
    """One alert with its events, oldest first; None when there is no such alert."""
    row = session.execute(
        select(Alert, Distributor.code)
        .outerjoin(Distributor, Distributor.id == Alert.distributor_id)
        .where(Alert.id == alert_id)
    ).first()
    if row is None:
        return None
    events = session.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.at, AlertEvent.id)
    )
    return AlertView(row[0], row[1], tuple(events))
