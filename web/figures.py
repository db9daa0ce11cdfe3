"""Compliance figures for the panel, from `storage.queries.compliance` (the enforcement side's one definition)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Literal

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from storage.queries.compliance import ComplianceRow

WINDOWS = (30, 90)  # days the overview shows compliance over


@dataclass(frozen=True)
class Share:
    """Compliant listing-periods over watched listing-periods; None when nothing was watched."""

    compliant: int
    watched: int

    @property
    def share(self) -> Decimal | None:
        if not self.watched:
            return None
        return (Decimal(self.compliant) * 100 / self.watched).quantize(Decimal("0.1"), ROUND_HALF_UP)


def compliance_rows(
    session: Session,
    start: dt.date,
    end: dt.date,
    period: Literal["day", "week", "month"],
    distributor_ids: Collection[int],
) -> list[ComplianceRow]:
    from storage.queries.compliance import compliance

    if not distributor_ids:
        return []
    return compliance(session, start=start, end=end, period=period, distributor_ids=distributor_ids)


def shares(session: Session, today: dt.date, days: int, distributor_ids: Collection[int]) -> dict[int, Share]:
    """Each distributor's compliance over the last `days` days up to `today`: its weeks added up."""
    rows = compliance_rows(session, today - dt.timedelta(days=days - 1), today, "week", distributor_ids)
    totals: dict[int, Share] = {}
    for row in rows:
        before = totals.get(row.distributor_id, Share(0, 0))
        totals[row.distributor_id] = Share(
            before.compliant + row.compliant_listings, before.watched + row.watched_listings
        )
    return totals
