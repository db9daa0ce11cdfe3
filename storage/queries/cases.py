"""Enforcement's reads and writes: the violations a case takes up, open cases and their listings, contacts,
notices and their outbox rows, compliance readings, and the views the CLI, the bot and the panel show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, delete, exists, func, select, text
from sqlalchemy.orm import Session, aliased

from storage.locks import _advisory_key
from storage.models import (
    OPEN_CASE_STATUSES,
    Alert,
    AlertStatus,
    Case,
    CaseListing,
    CaseStatus,
    ComplianceReading,
    Contact,
    Distributor,
    Listing,
    Notice,
    Outbox,
    OutboxStatus,
    Product,
    Seller,
)
from storage.queries.upsert import dialect_insert

ENFORCEMENT_LOCK = "pricewatch:enforcement"


def begin_enforcement(session: Session) -> None:
    """Serialize enforcement steps (the daily one, an approval, a close); must be the transaction's first statement.

    PostgreSQL: a transaction-level advisory lock. SQLite: BEGIN IMMEDIATE takes the write lock up front.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_advisory_key(ENFORCEMENT_LOCK))))
    else:
        session.execute(text("BEGIN IMMEDIATE"))


# -- what opens and closes cases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """An open violation alert on a listing that no case has taken up yet."""

    alert_id: int
    rule: str
    listing_id: int
    seller_id: int
    distributor_id: int
    opened_at: dt.datetime


def untaken_violations(session: Session, rules: Collection[str]) -> list[Violation]:
    """Open alerts of `rules` on a listing and in no case, in order of detection."""
    query = (
        select(Alert.id, Alert.rule, Listing.id, Seller.id, Seller.distributor_id, Alert.opened_at)
        .join(Listing, Listing.id == Alert.listing_id)
        .join(Seller, Seller.id == Listing.seller_id)
        .where(
            Alert.status == AlertStatus.OPEN,
            Alert.rule.in_(list(rules)),
            ~exists().where(CaseListing.alert_id == Alert.id),
        )
        .order_by(Alert.opened_at, Alert.id)
    )
    return [Violation(*row) for row in session.execute(query).tuples()]


def open_cases(session: Session, case_ids: Collection[int] | None = None) -> list[Case]:
    """Open cases in order of detection (all, or those of `case_ids`)."""
    query = select(Case).where(Case.status.in_(OPEN_CASE_STATUSES)).order_by(Case.opened_at, Case.id)
    if case_ids is not None:
        query = query.where(Case.id.in_(list(case_ids)))
    return list(session.scalars(query))


def last_fixed_case(session: Session, seller_id: int, since: dt.datetime) -> Case | None:
    """The seller's latest case fixed at or after `since`: a violation now relapses from it."""
    query = (
        select(Case)
        .where(Case.seller_id == seller_id, Case.status == CaseStatus.FIXED, Case.fixed_at >= since)
        .order_by(Case.fixed_at.desc(), Case.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def resolved_listings(session: Session, case_ids: Collection[int]) -> list[tuple[CaseListing, dt.datetime]]:
    """The cases' listings not yet fixed whose alert was resolved, with when it was."""
    if not case_ids:
        return []
    query = (
        select(CaseListing, Alert.resolved_at)
        .join(Alert, Alert.id == CaseListing.alert_id)
        .where(
            CaseListing.case_id.in_(list(case_ids)),
            CaseListing.fixed_at.is_(None),
            Alert.status == AlertStatus.RESOLVED,
            Alert.resolved_at.is_not(None),
        )
    )
    return [(listing, at) for listing, at in session.execute(query).tuples() if at is not None]


def fix_times(session: Session, case_ids: Collection[int]) -> dict[int, dt.datetime]:
    """Of the cases, those whose every listing is fixed, with when the last of them was."""
    if not case_ids:
        return {}
    query = (
        select(CaseListing.case_id, func.count(), func.count(CaseListing.fixed_at), func.max(CaseListing.fixed_at))
        .where(CaseListing.case_id.in_(list(case_ids)))
        .group_by(CaseListing.case_id)
    )
    return {case_id: last for case_id, n, fixed, last in session.execute(query).tuples() if n == fixed and last}


def issued_days(session: Session, case_ids: Collection[int]) -> dict[int, dict[str, dt.date]]:
    """Per case, the day each notice kind was first issued."""
    if not case_ids:
        return {}
    query = (
        select(Notice.case_id, Notice.kind, func.min(Notice.issued_on))
        .where(Notice.case_id.in_(list(case_ids)))
        .group_by(Notice.case_id, Notice.kind)
    )
    found: dict[int, dict[str, dt.date]] = {}
    for case_id, kind, day in session.execute(query).tuples():
        if day is not None:
            found.setdefault(case_id, {})[kind.value] = day
    return found


def distributor_approved(session: Session, distributor_id: int) -> bool:
    """Whether a manager approved a notice to the distributor before (in any of its cases)."""
    query = exists().where(Case.distributor_id == distributor_id, Case.approved_at.is_not(None))
    return bool(session.scalar(select(query)))


# -- a case's listings as notices and views show them ----------------------------------------------------------


@dataclass(frozen=True)
class CaseItem:
    """One listing of a case, with its alert's latest details and evidence."""

    case_id: int
    alert_id: int
    listing_id: int
    rule: str
    detected_at: dt.datetime
    fixed_at: dt.datetime | None
    alert_status: AlertStatus
    details: dict[str, Any]
    url: str
    brand: str | None
    evidence_ids: tuple[int | None, int | None]  # html, screenshot


def case_items(session: Session, case_ids: Collection[int]) -> dict[int, list[CaseItem]]:
    """Each case's listings, in order of detection."""
    if not case_ids:
        return {}
    query = (
        select(
            CaseListing.case_id,
            CaseListing.alert_id,
            CaseListing.listing_id,
            CaseListing.rule,
            CaseListing.detected_at,
            CaseListing.fixed_at,
            Alert.status,
            Alert.details,
            Listing.url,
            Product.brand,
            Alert.evidence_html_id,
            Alert.evidence_screenshot_id,
        )
        .join(Alert, Alert.id == CaseListing.alert_id)
        .join(Listing, Listing.id == CaseListing.listing_id)
        .outerjoin(Product, Product.id == Listing.product_id)
        .where(CaseListing.case_id.in_(list(case_ids)))
        .order_by(CaseListing.detected_at, CaseListing.id)
    )
    items: dict[int, list[CaseItem]] = {}
    for (
        case_id,
        alert_id,
        listing_id,
        rule,
        detected,
        fixed,
        status,
        details,
        url,
        brand,
        html,
        shot,
    ) in session.execute(query).tuples():
        item = CaseItem(case_id, alert_id, listing_id, rule, detected, fixed, status, details, url, brand, (html, shot))
        items.setdefault(case_id, []).append(item)
    return items


@dataclass(frozen=True)
class CaseView:
    """A case with who it is about."""

    case: Case
    distributor_code: str
    distributor_name: str
    seller_code: str
    seller_name: str
    legal_name: str | None
    tax_id: str | None
    listings: int
    listings_open: int


def _views(session: Session, query: Select[Any]) -> list[CaseView]:
    rows = session.execute(query).tuples().all()
    counts: dict[int, tuple[int, int]] = {}
    ids = [case.id for case, *_ in rows]
    if ids:
        count_query = (
            select(CaseListing.case_id, func.count(), func.count(CaseListing.fixed_at))
            .where(CaseListing.case_id.in_(ids))
            .group_by(CaseListing.case_id)
        )
        counts = {case_id: (int(n), int(n) - int(fixed)) for case_id, n, fixed in session.execute(count_query)}
    return [
        CaseView(case, code, name, seller_code, seller_name, legal_name, tax_id, *counts.get(case.id, (0, 0)))
        for case, code, name, seller_code, seller_name, legal_name, tax_id in rows
    ]


def _case_query() -> Select[Any]:
    return (
        select(Case, Distributor.code, Distributor.name, Seller.code, Seller.name, Seller.legal_name, Seller.tax_id)
        .join(Distributor, Distributor.id == Case.distributor_id)
        .join(Seller, Seller.id == Case.seller_id)
    )


def list_cases(
    session: Session,
    *,
    open_only: bool = False,
    distributor_codes: Collection[str] | None = None,
    limit: int | None = None,
) -> list[CaseView]:
    """Cases in order of detection (the order notices went in), open ones or all; of some distributors."""
    query = _case_query().order_by(Case.opened_at, Case.id)
    if open_only:
        query = query.where(Case.status.in_(OPEN_CASE_STATUSES))
    if distributor_codes is not None:
        query = query.where(Distributor.code.in_(list(distributor_codes)))
    if limit is not None:
        query = query.limit(limit)
    return _views(session, query)


def get_case(session: Session, case_id: int) -> CaseView | None:
    found = _views(session, _case_query().where(Case.id == case_id))
    return found[0] if found else None


# -- contacts --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactRow:
    distributor_id: int
    seller_code: str | None
    person: str | None
    email: str | None
    telegram: str | None
    language: str | None


def replace_contacts(
    session: Session, source: str, rows: Sequence[ContactRow], now: dt.datetime, distributor_ids: Iterable[int] = ()
) -> int:
    """Replace every contact from `source` (only those of `distributor_ids`, when given) with `rows`."""
    stale = delete(Contact).where(Contact.source == source)
    ids = list(distributor_ids)
    if ids:
        stale = stale.where(Contact.distributor_id.in_(ids))
    session.execute(stale)
    session.add_all(
        Contact(
            distributor_id=r.distributor_id,
            seller_code=r.seller_code,
            person=r.person,
            email=r.email,
            telegram=r.telegram,
            language=r.language,
            source=source,
            updated_at=now,
        )
        for r in rows
    )
    session.flush()
    return len(rows)


def contacts_of(session: Session, distributor_id: int, seller_code: str | None) -> list[Contact]:
    """The contacts that speak for a seller: those naming it, else the distributor's own (naming no seller).

    A marketplace's own contacts never receive notices about one of its sellers: `seller_code` names the seller
    on a marketplace, and None for a shop's own offers.
    """
    query = select(Contact).where(Contact.distributor_id == distributor_id).order_by(Contact.source, Contact.id)
    query = query.where(Contact.seller_code.is_(None) if seller_code is None else Contact.seller_code == seller_code)
    return list(session.scalars(query))


def all_contacts(session: Session) -> list[tuple[Contact, str]]:
    """Every contact with its distributor's code."""
    query = (
        select(Contact, Distributor.code)
        .join(Distributor, Distributor.id == Contact.distributor_id)
        .order_by(Distributor.code, Contact.seller_code.asc().nulls_first(), Contact.id)
    )
    return list(session.execute(query).tuples())


# -- notices ---------------------------------------------------------------------------------------------------


def queue_notice(session: Session, notice: Notice, payload: dict[str, Any]) -> Outbox:
    """Record a notice and its outbox row (dedup key `notice:<id>`: queued once, delivered once)."""
    session.add(notice)
    session.flush()
    row = Outbox(
        dedup_key=f"notice:{notice.id}",
        event_id=None,
        channel=notice.channel,
        recipient=notice.recipient,
        mode="instant",
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=notice.due_at,
        created_at=notice.created_at,
        payload=payload | {"notice_id": notice.id},
    )
    session.add(row)
    session.flush()
    notice.outbox_id = row.id
    return row


def withdraw_pending(session: Session, case_id: int, now: dt.datetime) -> int:
    """Take back a case's notices still waiting in the outbox (the case ended first); returns how many."""
    pending = select(Outbox.id).where(Outbox.id == Notice.outbox_id, Outbox.status == OutboxStatus.PENDING)
    notices = list(session.scalars(select(Notice).where(Notice.case_id == case_id, exists(pending))))
    if not notices:
        return 0
    session.execute(
        delete(Outbox).where(Outbox.id.in_([n.outbox_id for n in notices]), Outbox.status == OutboxStatus.PENDING)
    )
    for notice in notices:
        notice.withdrawn_at = now
    session.flush()
    return len(notices)


@dataclass(frozen=True)
class NoticeView:
    """A notice with its delivery: pending, sending, sent (when), dead, or withdrawn."""

    notice: Notice
    distributor_code: str
    seller_name: str
    case_opened_at: dt.datetime
    delivery: str
    sent_at: dt.datetime | None
    last_error: str | None


def notices(
    session: Session, *, case_id: int | None = None, distributor_codes: Collection[str] | None = None
) -> list[NoticeView]:
    """Notices in order of their cases' detection, then as issued: the log that shows equal treatment."""
    query = (
        select(Notice, Distributor.code, Seller.name, Case.opened_at, Outbox.status, Outbox.sent_at, Outbox.last_error)
        .join(Case, Case.id == Notice.case_id)
        .join(Distributor, Distributor.id == Case.distributor_id)
        .join(Seller, Seller.id == Case.seller_id)
        .outerjoin(Outbox, Outbox.id == Notice.outbox_id)
        .order_by(Case.opened_at, Case.id, Notice.due_at, Notice.id)
    )
    if case_id is not None:
        query = query.where(Notice.case_id == case_id)
    if distributor_codes is not None:
        query = query.where(Distributor.code.in_(list(distributor_codes)))
    views = []
    for notice, code, seller, opened_at, status, sent_at, error in session.execute(query).tuples():
        delivery = "withdrawn" if notice.withdrawn_at is not None else (status.value if status else "gone")
        views.append(NoticeView(notice, code, seller, opened_at, delivery, sent_at, error))
    return views


# -- compliance readings ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    listing_id: int
    day: dt.date
    distributor_id: int
    observed_at: dt.datetime
    price: Decimal
    rrp: Decimal
    threshold: Decimal | None
    compliant: bool


_READING_UPDATES = ("distributor_id", "observed_at", "price", "rrp", "threshold", "compliant")
READING_CHUNK = 500  # rows per statement: well under SQLite's bound-parameter limit


def record_readings(session: Session, readings: Sequence[Reading]) -> int:
    """Upsert each listing's reading of its day (a later crawl the same day replaces it); returns how many."""
    for start in range(0, len(readings), READING_CHUNK):
        chunk = readings[start : start + READING_CHUNK]
        stmt = dialect_insert(session, ComplianceReading).values([r.__dict__ for r in chunk])
        stmt = stmt.on_conflict_do_update(
            index_elements=["listing_id", "day"],
            set_={
                c: stmt.excluded[c] for c in ("distributor_id", "observed_at", "price", "rrp", "threshold", "compliant")
            },
            where=ComplianceReading.observed_at <= stmt.excluded.observed_at,
        )
        session.execute(stmt)
    return len(readings)


def seller_codes(session: Session, seller_ids: Collection[int]) -> dict[int, tuple[str, str]]:
    """Seller id → (its code, its distributor's code)."""
    if not seller_ids:
        return {}
    d = aliased(Distributor)
    query = (
        select(Seller.id, Seller.code, d.code)
        .join(d, d.id == Seller.distributor_id)
        .where(Seller.id.in_(list(seller_ids)))
    )
    return {seller_id: (code, distributor) for seller_id, code, distributor in session.execute(query).tuples()}
