"""The panel's violations: alerts on a listing, filtered, sorted, searched and paged within a user's scope; one
violation with its listing's observations and evidence; a manager's note.

The same filter selects the page, its count and the export (`selection`), so an export is exactly the set the
list shows. Dates select alerts open at some time in [start, end), as the reports count a violation in a period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from crawler.i18n import to_decimal
from crawler.items import Health, StockState
from storage.models import (
    Alert,
    AlertStatus,
    CrawlRun,
    Distributor,
    Listing,
    Observation,
    Product,
    RunStatus,
    Seller,
)
from storage.queries.evidence import StoredEvidence, evidence_by_ids
from storage.queries.web_scope import Scope, category_clause, distributor_clause, scope_clause
from storage.queries.web_text import contains

PAGE_SIZE = 50
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
SORTS = ("opened", "last_seen", "severity", "deviation", "distributor", "seller", "product", "rule")
_DISTRIBUTOR_ID = func.coalesce(Alert.distributor_id, Seller.distributor_id)
_PRODUCT_ID = func.coalesce(Alert.product_id, Listing.product_id)


@dataclass(frozen=True)
class ViolationFilter:
    """What the list is narrowed to; every field empty means every violation in scope."""

    distributor: str | None = None  # a distributor code
    seller: str | None = None  # part of the seller's name
    rule: str | None = None
    category: str | None = None
    severity: str | None = None
    status: str | None = None  # open | resolved
    start: dt.datetime | None = None  # UTC, inclusive
    end: dt.datetime | None = None  # UTC, exclusive
    search: str | None = None  # part of the product, vendor code, seller, page address or subject
    sort: str = "opened"
    descending: bool = True


@dataclass(frozen=True)
class ViolationRow:
    alert_id: int
    rule: str
    severity: str
    status: str
    subject: str
    distributor_code: str
    distributor_name: str
    seller_name: str
    seller_authorized: bool
    listing_id: int
    url: str
    product_id: int | None
    vendor_code: str | None
    product_name: str | None
    category: str | None
    opened_at: dt.datetime
    last_seen_at: dt.datetime
    resolved_at: dt.datetime | None
    details: dict[str, Any]
    feedback: str | None
    feedback_by: str | None
    feedback_at: dt.datetime | None

    @property
    def price(self) -> Decimal | None:
        return to_decimal(self.details.get("price"))

    @property
    def rrp(self) -> Decimal | None:
        return to_decimal(self.details.get("rrp"))

    @property
    def deviation_pct(self) -> Decimal | None:
        return to_decimal(self.details.get("deviation_pct"))


@dataclass(frozen=True)
class ViolationDetail:
    row: ViolationRow
    fingerprint: str
    seen_count: int
    note: str | None
    note_by: str | None
    note_at: dt.datetime | None
    html: StoredEvidence | None
    screenshot: StoredEvidence | None


@dataclass(frozen=True)
class ObservationLine:
    id: int
    observed_at: dt.datetime
    price: Decimal | None
    currency: str | None
    old_price: Decimal | None
    stock: StockState
    quantity: int | None
    http_status: int | None
    flags: list[str]
    run_status: RunStatus
    run_health: Health | None
    evidence_id: int | None

    @property
    def counted(self) -> bool:
        """Whether rules and reports read it (a finished run not judged failed)."""
        return self.run_status == RunStatus.FINISHED and self.run_health != Health.FAILED


@dataclass(frozen=True)
class Choices:
    """What the filter's lists offer, within the user's scope."""

    distributors: list[tuple[str, str]]  # (code, name)
    rules: list[str]
    categories: list[str]
    severities: list[str]


def _columns() -> tuple[Any, ...]:
    return (
        Alert.id,
        Alert.rule,
        Alert.severity,
        Alert.status,
        Alert.subject,
        Distributor.code,
        Distributor.name,
        Seller.name,
        Seller.authorized,
        Listing.id,
        Listing.url,
        _PRODUCT_ID,
        Product.vendor_code,
        Product.name,
        Product.category,
        Alert.opened_at,
        Alert.last_seen_at,
        Alert.resolved_at,
        Alert.details,
        Alert.feedback,
        Alert.feedback_by,
        Alert.feedback_at,
    )


def _row(values: Any) -> ViolationRow:
    fields = list(values)
    fields[3] = str(fields[3])
    fields[18] = fields[18] or {}
    return ViolationRow(*fields)


def _joined(query: Select[Any]) -> Select[Any]:
    return (
        query.select_from(Alert)
        .join(Listing, Listing.id == Alert.listing_id)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == _DISTRIBUTOR_ID)
        .outerjoin(Product, Product.id == _PRODUCT_ID)
    )


def _search(session: Session, text: str) -> ColumnElement[bool]:
    columns = (Product.name, Product.vendor_code, Seller.name, Listing.url, Listing.title, Alert.subject)
    return or_(*(contains(session, column, text) for column in columns))


def _where(session: Session, scope: Scope, f: ViolationFilter) -> list[ColumnElement[bool]]:
    where = [scope_clause(scope, Distributor.code, Product.category)]
    exact = (
        (Distributor.code, f.distributor),
        (Alert.rule, f.rule),
        (Product.category, f.category),
        (Alert.severity, f.severity),
    )
    where += [column == value for column, value in exact if value]
    if f.status:
        where.append(Alert.status == AlertStatus(f.status))
    if f.seller:
        where.append(contains(session, Seller.name, f.seller))
    if f.start is not None:
        where.append(Alert.last_seen_at >= f.start)
    if f.end is not None:
        where.append(Alert.opened_at < f.end)
    if f.search:
        where.append(_search(session, f.search))
    return where


def _order(f: ViolationFilter) -> list[Any]:
    keys: dict[str, Any] = {
        "opened": Alert.opened_at,
        "last_seen": Alert.last_seen_at,
        "severity": case(SEVERITY_RANK, value=Alert.severity, else_=len(SEVERITY_RANK)),
        "deviation": Alert.details["deviation_pct"].as_float(),
        "distributor": Distributor.name,
        "seller": Seller.name,
        "product": Product.vendor_code,
        "rule": Alert.rule,
    }
    key = keys.get(f.sort, Alert.opened_at)
    # Severity ranks count up from the most severe: "descending" means most severe first.
    descending = f.descending != (f.sort == "severity")
    first = key.desc().nulls_last() if descending else key.asc().nulls_last()
    return [first, Alert.id.desc() if f.descending else Alert.id.asc()]


def violations_page(
    session: Session, scope: Scope, f: ViolationFilter, *, page: int = 1, size: int = PAGE_SIZE
) -> tuple[list[ViolationRow], int]:
    """One page of the filtered violations (1-based) and how many there are in all."""
    where = _where(session, scope, f)
    total = session.scalar(_joined(select(func.count(Alert.id))).where(*where)) or 0
    query = _joined(select(*_columns())).where(*where).order_by(*_order(f))
    rows = session.execute(query.offset((max(page, 1) - 1) * size).limit(size)).all()
    return [_row(r) for r in rows], int(total)


@dataclass(frozen=True)
class Selected:
    alert_id: int
    rule: str
    opened_at: dt.datetime


def selection(session: Session, scope: Scope, f: ViolationFilter) -> list[Selected]:
    """Every violation the filter selects, in the list's order (what an export holds)."""
    query = (
        _joined(select(Alert.id, Alert.rule, Alert.opened_at)).where(*_where(session, scope, f)).order_by(*_order(f))
    )
    return [Selected(i, r, o) for i, r, o in session.execute(query)]


def violation(session: Session, scope: Scope, alert_id: int) -> ViolationDetail | None:
    """The violation with its note and evidence; None when there is none or it is outside the scope."""
    query = _joined(
        select(
            *_columns(),
            Alert.fingerprint,
            Alert.seen_count,
            Alert.note,
            Alert.note_by,
            Alert.note_at,
            Alert.evidence_html_id,
            Alert.evidence_screenshot_id,
        )
    ).where(Alert.id == alert_id, scope_clause(scope, Distributor.code, Product.category))
    found = session.execute(query).first()
    if found is None:
        return None
    values = list(found)
    base, (fingerprint, seen, note, note_by, note_at, html_id, shot_id) = values[:22], values[22:]
    files = evidence_by_ids(session, (html_id, shot_id))
    return ViolationDetail(
        row=_row(base),
        fingerprint=fingerprint,
        seen_count=seen,
        note=note,
        note_by=note_by,
        note_at=note_at,
        html=files.get(html_id) if html_id is not None else None,
        screenshot=files.get(shot_id) if shot_id is not None else None,
    )


def listing_observations(session: Session, listing_id: int, limit: int = 2000) -> list[ObservationLine]:
    """The listing's observations, newest first, with their crawl run's status and verdict."""
    query = (
        select(
            Observation.id,
            Observation.observed_at,
            Observation.price,
            Observation.currency,
            Observation.old_price,
            Observation.stock,
            Observation.quantity,
            Observation.http_status,
            Observation.flags,
            CrawlRun.status,
            CrawlRun.health,
            Observation.evidence_id,
        )
        .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
        .where(Observation.listing_id == listing_id)
        .order_by(Observation.observed_at.desc(), Observation.id.desc())
        .limit(limit)
    )
    lines = []
    for r in session.execute(query):
        values = list(r)
        values[8] = list(values[8] or [])
        lines.append(ObservationLine(*values))
    return lines


def set_note(session: Session, alert_id: int, note: str | None, by: str, at: dt.datetime) -> bool:
    """The alert's note (None clears it); False when there is no such alert."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        return False
    alert.note, alert.note_by, alert.note_at = note, by, at
    session.flush()
    return True


def choices(session: Session, scope: Scope) -> Choices:
    """The distributors and categories of the scope (from their own tables: quick whatever the alerts), the rules
    alerts exist for."""
    distributors = session.execute(
        select(Distributor.code, Distributor.name)
        .where(distributor_clause(scope, Distributor.code))
        .order_by(Distributor.name, Distributor.code)
    ).all()
    rules = session.scalars(select(Alert.rule).where(Alert.listing_id.is_not(None)).distinct().order_by(Alert.rule))
    categories = session.scalars(
        select(Product.category)
        .where(Product.category.is_not(None), category_clause(scope, Product.category))
        .distinct()
        .order_by(Product.category)
    )
    return Choices(
        distributors=[(c, n) for c, n in distributors],
        rules=list(rules),
        categories=[c for c in categories if c],
        severities=list(SEVERITY_RANK),
    )


@dataclass(frozen=True)
class OpenCount:
    rule: str
    distributor_code: str
    distributor_name: str
    now: int  # open now
    day_start: int  # open at the start of today: what yesterday ended with


def _open_at(moment: dt.datetime) -> ColumnElement[bool]:
    return and_(Alert.opened_at <= moment, or_(Alert.resolved_at.is_(None), Alert.resolved_at > moment))


def open_counts(session: Session, scope: Scope, now: dt.datetime, day_start: dt.datetime) -> list[OpenCount]:
    """Violations open now and at the start of the day, by rule and distributor (those with either)."""
    now_open = func.sum(case((_open_at(now), 1), else_=0))
    then_open = func.sum(case((_open_at(day_start), 1), else_=0))
    query = (
        _joined(select(Alert.rule, Distributor.code, Distributor.name, now_open, then_open))
        .where(
            scope_clause(scope, Distributor.code, Product.category),
            or_(Alert.status == AlertStatus.OPEN, Alert.resolved_at > day_start),
        )
        .group_by(Alert.rule, Distributor.code, Distributor.name)
        .order_by(Alert.rule, Distributor.name)
    )
    counts = [OpenCount(r, c, n, int(a or 0), int(b or 0)) for r, c, n, a, b in session.execute(query)]
    return [c for c in counts if c.now or c.day_start]
