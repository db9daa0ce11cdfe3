"""Compliance per distributor and period: how much of what it sells stays at or above the dumping threshold, how
many violations it opened, how fast it fixed them, the notices it was sent and its relapses.

The figures come from what the enforcement step records (it knows the config: the time zone, the RRP and the
dumping tolerance in force): a listing's daily reading from a healthy crawl against the threshold
(`compliance_readings`), and the cases. Definitions, per distributor and period (local calendar days; a week
starts on Monday; the first and last period are cut to `start` … `end`):

- *watched listings*: listings with a reading in the period; *compliant*: those whose latest reading in the period
  was at or above the threshold (a promo that exempts the offer counts as compliant); *share*: compliant / watched;
- *violations opened*: violation alerts that became (part of) a case, on the day they were detected;
- *hours to fix*: of the cases fixed in the period, from the case's detection to the rules run that saw every
  listing of it fixed; median and 90th percentile interpolated between the two nearest ranks (as PostgreSQL's
  `percentile_cont`);
- *notices sent*: first and second notices delivered to at least one of the seller's contacts, on their day;
- *repeat offences*: relapses (cases that repeat a fixed one) opened in the period.

Migration 0010's `v_compliance` view repeats these rules in SQL for whole weeks and months.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, Date, func, literal, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from storage.models import Case, CaseListing, ComplianceReading, Distributor, Notice, NoticeKind, Outbox, OutboxStatus

PeriodName = Literal["day", "week", "month"]
CENT = Decimal("0.01")
SHARE_PLACES = Decimal("0.0001")
MEDIAN, P90 = Decimal("0.5"), Decimal("0.9")
SELLER_NOTICES = (NoticeKind.FIRST, NoticeKind.SECOND)


@dataclass(frozen=True)
class ComplianceRow:
    distributor_id: int
    distributor_code: str
    period_start: dt.date  # the day, the Monday of the week, or the first of the month
    watched_listings: int
    compliant_listings: int
    share: Decimal | None  # 0..1, four places; None when nothing was watched
    violations_opened: int
    median_hours_to_fix: Decimal | None
    p90_hours_to_fix: Decimal | None
    notices_sent: int
    repeat_offences: int


def period_start(day: dt.date, period: PeriodName) -> dt.date:
    """The first day of the period `day` falls in."""
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _next_start(start: dt.date, period: PeriodName) -> dt.date:
    if period == "week":
        return start + dt.timedelta(days=7)
    if period == "month":
        return (start + dt.timedelta(days=32)).replace(day=1)
    return start + dt.timedelta(days=1)


def period_starts(start: dt.date, end: dt.date, period: PeriodName) -> list[dt.date]:
    """The first day of every period that overlaps `start` … `end`."""
    first, starts = period_start(start, period), []
    while first <= end:
        starts.append(first)
        first = _next_start(first, period)
    return starts


def percentile(values: Iterable[Decimal], fraction: Decimal) -> Decimal | None:
    """The `fraction` percentile interpolated between the two nearest ranks, to the hundredth; None of nothing."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = ordered[min(low + 1, len(ordered) - 1)]
    return (ordered[low] + (high - ordered[low]) * (position - low)).quantize(CENT, ROUND_HALF_UP)


def _bucket(column: Any, starts: Sequence[dt.date]) -> ColumnElement[Any]:
    """SQL: the index in `starts` of the period a date column falls in (the dates are within the range)."""
    if len(starts) == 1:
        return literal(0)
    return sql_case(*((column < starts[i + 1], i) for i in range(len(starts) - 1)), else_=len(starts) - 1)


class _Figures:
    """The range's figures per (distributor id, period index), gathered query by query."""

    def __init__(self, session: Session, start: dt.date, end: dt.date, period: PeriodName, ids: list[int]) -> None:
        self.session, self.start, self.end, self.ids = session, start, end, ids
        self.starts = period_starts(start, end, period)

    def index(self, day: dt.date) -> int:
        return max(i for i, first in enumerate(self.starts) if first <= day)

    def coverage(self) -> dict[tuple[int, int], tuple[int, int]]:
        """(watched, compliant) listings: the latest reading of each listing in each period."""
        r = ComplianceReading
        bucket = _bucket(r.day, self.starts).label("bucket")
        ranked = (
            select(
                r.distributor_id,
                r.compliant,
                bucket,
                func.row_number()
                .over(partition_by=(r.listing_id, bucket), order_by=(r.day.desc(), r.observed_at.desc()))
                .label("rn"),
            )
            .where(r.day >= self.start, r.day <= self.end, r.distributor_id.in_(self.ids))
            .subquery()
        )
        query = (
            select(
                ranked.c.distributor_id,
                ranked.c.bucket,
                func.count(),
                func.sum(sql_case((ranked.c.compliant, 1), else_=0)),
            )
            .where(ranked.c.rn == 1)
            .group_by(ranked.c.distributor_id, ranked.c.bucket)
        )
        return {(d, int(b)): (int(n), int(ok or 0)) for d, b, n, ok in self.session.execute(query).tuples()}

    def _count_by_day(self, query: Any) -> dict[tuple[int, int], int]:
        counts: dict[tuple[int, int], int] = defaultdict(int)
        for distributor_id, day, n in self.session.execute(query).tuples():
            counts[(distributor_id, self.index(_as_date(day)))] += int(n)
        return counts

    def opened(self) -> dict[tuple[int, int], int]:
        query = (
            select(Case.distributor_id, CaseListing.detected_on, func.count())
            .join(Case, Case.id == CaseListing.case_id)
            .where(self._within(CaseListing.detected_on), Case.distributor_id.in_(self.ids))
            .group_by(Case.distributor_id, CaseListing.detected_on)
        )
        return self._count_by_day(query)

    def repeats(self) -> dict[tuple[int, int], int]:
        query = (
            select(Case.distributor_id, Case.opened_on, func.count())
            .where(self._within(Case.opened_on), Case.repeat_of_id.is_not(None), Case.distributor_id.in_(self.ids))
            .group_by(Case.distributor_id, Case.opened_on)
        )
        return self._count_by_day(query)

    def notices(self) -> dict[tuple[int, int], int]:
        """Ladder steps (a case's first or second notice) delivered to at least one contact."""
        steps = (
            select(Case.distributor_id, Notice.issued_on, Notice.case_id, Notice.kind)
            .join(Case, Case.id == Notice.case_id)
            .join(Outbox, Outbox.id == Notice.outbox_id)
            .where(
                self._within(Notice.issued_on),
                Notice.kind.in_(SELLER_NOTICES),
                Outbox.status == OutboxStatus.SENT,
                Case.distributor_id.in_(self.ids),
            )
            .distinct()
            .subquery()
        )
        query = select(steps.c.distributor_id, steps.c.issued_on, func.count()).group_by(
            steps.c.distributor_id, steps.c.issued_on
        )
        return self._count_by_day(query)

    def fix_hours(self) -> dict[tuple[int, int], list[Decimal]]:
        query = select(Case.distributor_id, Case.fixed_on, Case.hours_to_fix).where(
            self._within(Case.fixed_on), Case.hours_to_fix.is_not(None), Case.distributor_id.in_(self.ids)
        )
        hours: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
        for distributor_id, day, value in self.session.execute(query).tuples():
            if day is not None and value is not None:  # both are, by the query: this tells the type checker
                hours[(distributor_id, self.index(_as_date(day)))].append(value)
        return hours

    def _within(self, column: Any) -> ColumnElement[bool]:
        return column.between(literal(self.start, Date), literal(self.end, Date))


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _share(compliant: int, watched: int) -> Decimal | None:
    return (Decimal(compliant) / Decimal(watched)).quantize(SHARE_PLACES, ROUND_HALF_UP) if watched else None


def compliance(
    session: Session,
    *,
    start: dt.date,
    end: dt.date,
    period: PeriodName,
    distributor_ids: Collection[int] | None = None,
) -> list[ComplianceRow]:
    """One row per distributor (by code) and period from `start` to `end`, inclusive, periods oldest first."""
    if end < start:
        raise ValueError(f"compliance: end {end} is before start {start}")
    query = select(Distributor.id, Distributor.code).order_by(Distributor.code)
    if distributor_ids is not None:
        query = query.where(Distributor.id.in_(list(distributor_ids)))
    distributors = list(session.execute(query).tuples())
    figures = _Figures(session, start, end, period, [d for d, _ in distributors])
    coverage, opened, repeats = figures.coverage(), figures.opened(), figures.repeats()
    notices, hours = figures.notices(), figures.fix_hours()
    rows = []
    for distributor_id, code in distributors:
        for i, first in enumerate(figures.starts):
            key = (distributor_id, i)
            watched, compliant = coverage.get(key, (0, 0))
            rows.append(
                ComplianceRow(
                    distributor_id=distributor_id,
                    distributor_code=code,
                    period_start=first,
                    watched_listings=watched,
                    compliant_listings=compliant,
                    share=_share(compliant, watched),
                    violations_opened=opened.get(key, 0),
                    median_hours_to_fix=percentile(hours.get(key, []), MEDIAN),
                    p90_hours_to_fix=percentile(hours.get(key, []), P90),
                    notices_sent=notices.get(key, 0),
                    repeat_offences=repeats.get(key, 0),
                )
            )
    return rows
