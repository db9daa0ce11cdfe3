"""Assortment gap: a SKU a distributor is expected to carry — on its `assortment` list in the config, or (with
`rules.assortment_gap.from_sales_plan`) in its sales plan for the month — that it has never offered in stock.

Never listed (judged only from a complete crawl: a limited or partial one may just not have reached it), or listed
but not once in stock since (out of stock, pre-order at first sight). Resolved once a listing of it is in stock;
after that, running out is a stock-out, not a gap. The details carry the month's planned quantity and the sales
lost over the gap's days, as the reports count lost sales (storage/lost_sales.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crawler.config import Config
from crawler.items import Health, StockState
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult
from rules.describe import local_date, say, shown_money, subject, two_places
from storage.codes import normalize_vendor_code
from storage.lost_sales import RrpBook, planned_loss
from storage.queries.assortment import ever_available
from storage.queries.catalog import ProductRow, products_by_code
from storage.queries.reports import monthly_plans, rrp_history
from storage.queries.rules import AVAILABLE, DistributorRun, OfferState

NAME = "assortment_gap"
SUBJECT = {
    "ru": "Нет в ассортименте: {vendor_code} {product} — {distributor}, {state}{plan}",
    "en": "Assortment gap: {vendor_code} {product} — {distributor}, {state}{plan}",
}
STATE = {
    "never_listed": {"ru": "не представлен", "en": "not listed"},
    "not_in_stock": {"ru": "нет в наличии", "en": "not in stock"},
}
PLAN = {
    "ru": " (план {quantity} шт. в месяц, упущено {lost})",
    "en": " (plan {quantity} pcs a month, {lost} lost)",
}


@dataclass(frozen=True)
class _Expected:
    """A SKU a distributor whose latest run is ok should offer, and what is known of it there."""

    run: DistributorRun
    product: ProductRow
    offers: list[OfferState]  # the distributor's listings of it, by their latest reading


def evaluate(ctx: RuleContext) -> RuleResult:
    """Judged for distributors whose latest run is ok; a gap the run cannot judge (not listed in an incomplete crawl,
    every listing unknown) is kept as it is."""
    expected = _expected(ctx)
    unavailable = {key: e for key, e in expected.items() if not any(_available(o) for o in e.offers)}
    stocked_once = ever_available(ctx.session, [key for key, e in unavailable.items() if e.offers])
    gaps, undecided = [], set()
    for key, item in unavailable.items():
        if key in stocked_once:
            continue  # in stock once since it was listed: running out is a stock-out
        if _judgeable(item):
            gaps.append(item)
        elif _fingerprint(*key) in ctx.open(NAME):
            undecided.add(_fingerprint(*key))
    return RuleResult(_findings(ctx, gaps), frozenset(undecided))


def _available(offer: OfferState) -> bool:
    """In stock by the listing's latest known reading (an unknown one, a blocked page, falls back to the last)."""
    stock = offer.last_known_stock if offer.stock == StockState.UNKNOWN else offer.stock
    return stock in AVAILABLE


def _judgeable(item: _Expected) -> bool:
    """Never listed, from a complete crawl; or listed with at least one listing whose stock is known."""
    if not item.offers:
        return item.run.complete
    return any(o.stock != StockState.UNKNOWN or o.last_known_stock is not None for o in item.offers)


def _fingerprint(distributor_id: int, product_id: int) -> str:
    return f"{NAME}:{distributor_id}:{product_id}"


def _expected(ctx: RuleContext) -> dict[tuple[int, int], _Expected]:
    """(distributor id, product id) → what is expected, for the configured distributors whose latest run is ok."""
    from_plan = ctx.config.rules.assortment_gap.from_sales_plan
    runs = {run.code: run for run in ctx.runs.values() if run.verdict == Health.OK}
    listed = {d.code: d.assortment for d in ctx.config.distributors if d.code in runs}
    if not any(listed.values()) and not from_plan:
        return {}
    catalog = products_by_code(ctx.session)
    keys = _listed(catalog, {runs[code].distributor_id: codes for code, codes in listed.items()})
    if from_plan:
        keys |= _planned(ctx, [runs[code] for code in listed])
    offers: dict[tuple[int, int], list[OfferState]] = defaultdict(list)
    for offer in ctx.offers:
        offers[(offer.distributor_id, offer.product_id)].append(offer)
    by_id = {p.id: p for p in catalog.values()}
    return {(d, p): _Expected(ctx.runs[d], by_id[p], offers.get((d, p), [])) for d, p in keys if p in by_id}


def _listed(catalog: dict[str, ProductRow], assortments: dict[int, list[str]]) -> set[tuple[int, int]]:
    """The (distributor, product) pairs of the distributors' `assortment` lists (codes not in the catalog left out)."""
    found = ((d, catalog.get(normalize_vendor_code(code))) for d, codes in assortments.items() for code in codes)
    return {(d, product.id) for d, product in found if product is not None}


def _planned(ctx: RuleContext, runs: Sequence[DistributorRun]) -> set[tuple[int, int]]:
    """The (distributor, product) pairs the sales plan gives units in the month of each distributor's run."""
    if not runs:
        return set()
    months = {run.distributor_id: local_date(ctx, run.started_at).replace(day=1) for run in runs}
    plans = monthly_plans(ctx.session, set(months), min(months.values()), max(months.values()))
    return {(d, p) for (d, p, month), quantity in plans.items() if month == months[d] and quantity > 0}


def _findings(ctx: RuleContext, gaps: Sequence[_Expected]) -> list[Finding]:
    """One finding per gap, with the sales lost from the day it was first found to the run's day."""
    if not gaps:
        return []
    spans = [_gap_days(ctx, g) for g in gaps]
    first = min(days[0] for days in spans).replace(day=1)
    last = max(days[-1] for days in spans).replace(day=1)
    plans = monthly_plans(ctx.session, {g.run.distributor_id for g in gaps}, first, last)
    rrp = RrpBook(rrp_history(ctx.session, {g.product.id for g in gaps}))
    return [_finding(ctx, gap, days, plans, rrp) for gap, days in zip(gaps, spans, strict=True)]


def _gap_days(ctx: RuleContext, gap: _Expected) -> list[dt.date]:
    """The local days of the gap: from the day its open alert found it (today, for a new one) to its run's day."""
    today = local_date(ctx, gap.run.started_at)
    alert = ctx.open(NAME).get(_fingerprint(gap.run.distributor_id, gap.product.id))
    since = (alert.details or {}).get("gap_since") if alert is not None else None
    start = min(dt.date.fromisoformat(since), today) if since else today
    return [start + dt.timedelta(days=n) for n in range((today - start).days + 1)]


def _finding(
    ctx: RuleContext,
    gap: _Expected,
    days: list[dt.date],
    plans: dict[tuple[int, int, dt.date], int],
    rrp: RrpBook,
) -> Finding:
    run, product = gap.run, gap.product
    quantity = plans.get((run.distributor_id, product.id, days[-1].replace(day=1)))
    lost_units, lost = planned_loss(plans, run.distributor_id, product.id, days, rrp)
    state = "not_in_stock" if gap.offers else "never_listed"
    plan = "" if quantity is None else say(ctx, PLAN, quantity=quantity, lost=shown_money(ctx, lost))
    return Finding(
        rule=NAME,
        fingerprint=_fingerprint(run.distributor_id, product.id),
        severity="info",
        subject=subject(
            ctx,
            SUBJECT,
            vendor_code=product.vendor_code,
            product=product.name,
            distributor=run.name,
            state=say(ctx, STATE[state]),
            plan=plan,
        ),
        details=_details(run, product, gap.offers)
        | {
            "gap": state,
            "month": days[-1].replace(day=1).isoformat(),
            "planned_quantity": quantity,
            "gap_since": days[0].isoformat(),
            "gap_days": len(days),
            "lost_units": two_places(lost_units),
            "lost_sales": two_places(lost),
            "rrp": two_places(rrp.on(product.id, days[-1])),
        },
        product_id=product.id,
        distributor_id=run.distributor_id,
    )


def _details(run: DistributorRun, product: ProductRow, offers: Sequence[OfferState]) -> dict[str, Any]:
    """The details every alert carries, for a distributor and product (the first listing's, if it has one)."""
    listing = min(offers, key=lambda o: o.listing_id) if offers else None
    return {
        "distributor_code": run.code,
        "distributor_name": run.name,
        "seller_code": run.code,
        "seller_name": run.name,
        "vendor_code": product.vendor_code,
        "product_name": product.name,
        "category": product.category,
        "url": listing.url if listing else None,
        "stock": listing.stock.value if listing else None,
        "currency": "RUB",
        "observed_at": (listing.observed_at if listing else run.started_at).isoformat(),
    }


def enabled(config: Config) -> bool:
    return config.rules.assortment_gap.enabled


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
