"""Chart data for the pages' uPlot charts: aligned x values (UTC seconds) and one list of y values per series.

The data goes into the page as JSON (a `<script type="application/json">`), which web/static/app.js draws; no
script is written into a page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from crawler.config import Config
from reports.data import RrpBook
from storage.queries.web_catalog import SkuPoint
from storage.queries.web_violations import ObservationLine

RRP_CURRENCY = "RUB"  # the price list's currency: only rouble prices are drawn against it


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _tolerance(details: dict[str, Any], config: Config) -> Decimal:
    """The tolerance the alert was judged with; the rule's default for an alert that records none."""
    try:
        return Decimal(str(details["tolerance_pct"]))
    except (KeyError, ArithmeticError, TypeError, ValueError):
        return config.rules.dumping.tolerance_pct


def violation_chart(
    observations: Sequence[ObservationLine],
    rrps: list[tuple[dt.date, Decimal]],
    details: dict[str, Any],
    config: Config,
) -> dict[str, Any]:
    """The listing's counted, priced observations, oldest first, with the RRP and the threshold in force then."""
    book = RrpBook({0: rrps})
    tolerance = _tolerance(details, config)
    points = [o for o in reversed(observations) if o.counted and o.price is not None]
    points = [o for o in points if (o.currency or RRP_CURRENCY) == RRP_CURRENCY]
    x, price, rrp, threshold = [], [], [], []
    for o in points:
        day_rrp = book.on(0, o.observed_at.astimezone(config.tz).date())
        x.append(int(o.observed_at.timestamp()))
        price.append(_number(o.price))
        rrp.append(_number(day_rrp))
        threshold.append(None if day_rrp is None else float(day_rrp * (100 - tolerance) / 100))
    return {
        "x": x,
        "series": [
            {"key": "price", "values": price},
            {"key": "rrp", "values": rrp},
            {"key": "threshold", "values": threshold},
        ],
        "tolerance": str(tolerance),
    }


def _day_stamp(day: dt.date, config: Config) -> int:
    return int(dt.datetime.combine(day, dt.time(12), config.tz).timestamp())


def sku_chart(points: Sequence[SkuPoint], rrps: list[tuple[dt.date, Decimal]], config: Config) -> dict[str, Any]:
    """Each listing's lowest price per local day, and the RRP of each day, on the days anything was seen."""
    book = RrpBook({0: rrps})
    lowest: dict[int, dict[dt.date, Decimal]] = {}
    labels: dict[int, str] = {}
    for p in points:
        if p.price is None or (p.currency or RRP_CURRENCY) != RRP_CURRENCY:
            continue
        day = p.observed_at.astimezone(config.tz).date()
        per_day = lowest.setdefault(p.listing_id, {})
        per_day[day] = min(per_day.get(day, p.price), p.price)
        labels[p.listing_id] = f"{p.seller_name} · {p.distributor_name}"
    days = sorted({d for per_day in lowest.values() for d in per_day})
    series = [{"key": "rrp", "values": [_number(book.on(0, d)) for d in days]}]
    series += [
        {"key": "seller", "label": labels[i], "values": [_number(per_day.get(d)) for d in days]}
        for i, per_day in lowest.items()
    ]
    return {"x": [_day_stamp(d, config) for d in days], "series": series}
