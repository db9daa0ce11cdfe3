"""Low stock: an available offer whose quantity is at or below the configured threshold."""

from __future__ import annotations

from crawler.config import Config
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult, stock_readings
from rules.describe import offer_details, subject
from storage.queries.rules import AVAILABLE

NAME = "low_stock"
SUBJECT = {
    "ru": "Мало на складе: {vendor_code} {product} — {seller}: {quantity} шт.",
    "en": "Low stock: {vendor_code} {product} — {seller}: {quantity} pcs",
}


def evaluate(ctx: RuleContext) -> RuleResult:
    """Only the distributor's latest (ok) run counts; a listing not read in it, or unknown, is not judged."""
    threshold = ctx.config.rules.stock_out.low_stock_threshold
    judged, undecided = stock_readings(ctx, NAME)
    findings = []
    for fp, offer in judged:
        if offer.stock not in AVAILABLE or offer.quantity is None or offer.quantity > threshold:
            continue
        findings.append(
            Finding(
                rule=NAME,
                fingerprint=fp,
                severity="info",
                subject=subject(
                    ctx,
                    SUBJECT,
                    vendor_code=offer.vendor_code,
                    product=offer.product_name,
                    seller=offer.seller_name,
                    quantity=offer.quantity,
                ),
                details=offer_details(ctx, offer) | {"quantity": offer.quantity, "threshold": threshold},
                listing_id=offer.listing_id,
                product_id=offer.product_id,
                distributor_id=offer.distributor_id,
            )
        )
    return RuleResult(findings, undecided)


def enabled(config: Config) -> bool:
    return config.rules.stock_out.enabled


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
