"""Lost potential sales, as the reports and the assortment-gap rule count them: per day a distributor lacks a
product, the month's planned quantity divided by the days in the month, at the RRP in force that day."""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

PlanKey = tuple[int, int, dt.date]  # distributor id, product id, first day of month


class RrpBook:
    """RRP of a product on a day: the latest price-list version valid then."""

    def __init__(self, history: dict[int, list[tuple[dt.date, Decimal]]]) -> None:
        self._dates = {p: [d for d, _ in rows] for p, rows in history.items()}
        self._values = {p: [v for _, v in rows] for p, rows in history.items()}

    def on(self, product_id: int | None, day: dt.date) -> Decimal | None:
        if product_id is None or product_id not in self._dates:
            return None
        i = bisect.bisect_right(self._dates[product_id], day)
        return self._values[product_id][i - 1] if i else None


def planned_loss(
    plans: Mapping[PlanKey, int], dist_id: int, product_id: int, days: Sequence[dt.date], rrp: RrpBook
) -> tuple[Decimal | None, Decimal | None]:
    """The planned units of the `days` the product was lacking and their worth at each day's RRP (None: no plan /
    no RRP)."""
    units: Decimal | None = None
    lost: Decimal | None = None
    for day in days:
        quantity = plans.get((dist_id, product_id, day.replace(day=1)))
        if quantity is None:
            continue
        daily = Decimal(quantity) / calendar.monthrange(day.year, day.month)[1]
        units = (units or Decimal(0)) + daily
        day_rrp = rrp.on(product_id, day)
        if day_rrp is not None:
            lost = (lost or Decimal(0)) + daily * day_rrp
    return units, lost
