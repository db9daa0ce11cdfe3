"""Stock-out: in stock at the distributor's last healthy run and now out of stock or delisted (404)."""

from __future__ import annotations

from crawler.config import Config
from crawler.items import StockState
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult, stock_readings
from rules.describe import offer_details, subject
from storage.queries.rules import AVAILABLE

NAME = "stock_out"
SUBJECT = {
    "ru": "Нет в наличии: {vendor_code} {product} — {seller}",
    "en": "Out of stock: {vendor_code} {product} — {seller}",
}
SUBJECT_DELISTED = {
    "ru": "Снят с продажи: {vendor_code} {product} — {seller}",
    "en": "Delisted: {vendor_code} {product} — {seller}",
}


def evaluate(ctx: RuleContext) -> RuleResult:
    """Opens on the change from available (last ok run) to out; stays found while the listing stays out.

    Only the distributor's latest run counts, and it must be ok (a degraded or failed run holds the rule, see
    RULE). A listing not read in that run, or read as unknown, cannot be judged: its open alert is kept.
    """
    open_alerts = ctx.open(NAME)
    judged, undecided = stock_readings(ctx, NAME)
    findings = []
    for fp, offer in judged:
        if offer.stock != StockState.OUT_OF_STOCK:
            continue
        if offer.last_ok_stock not in AVAILABLE and fp not in open_alerts:
            continue
        findings.append(
            Finding(
                rule=NAME,
                fingerprint=fp,
                severity="warning",
                subject=subject(
                    ctx,
                    SUBJECT_DELISTED if offer.delisted else SUBJECT,
                    vendor_code=offer.vendor_code,
                    product=offer.product_name,
                    seller=offer.seller_name,
                ),
                details=offer_details(ctx, offer)
                | {
                    "previous_stock": offer.last_ok_stock.value if offer.last_ok_stock else None,
                    "stock": offer.stock.value,
                    "delisted": offer.delisted,
                    "last_in_stock_at": offer.last_in_stock_at.isoformat() if offer.last_in_stock_at else None,
                },
                listing_id=offer.listing_id,
                product_id=offer.product_id,
                distributor_id=offer.distributor_id,
            )
        )
    return RuleResult(findings, undecided)


def enabled(config: Config) -> bool:
    return config.rules.stock_out.enabled


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
