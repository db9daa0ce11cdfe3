"""Price move (info): a listing's firm price changed by more than X % since its last known firm price."""

from __future__ import annotations

from crawler.config import Config
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult, listing_fingerprint
from rules.describe import change_pct, offer_details, shown_money, shown_pct, subject, two_places

NAME = "price_move"
SUBJECT = {
    "ru": "Цена изменилась: {vendor_code} {product} — {seller}: {previous} → {price} ({change})",
    "en": "Price moved: {vendor_code} {product} — {seller}: {previous} → {price} ({change})",
}


def evaluate(ctx: RuleContext) -> RuleResult:
    """Compares the distributor's latest run with the listing's last known firm price (from an earlier ok run the
    rules evaluated); the alert ends with the next run that shows no such move."""
    threshold = ctx.config.rules.price_move.threshold_pct
    findings = []
    for offer in ctx.offers:
        previous, price = offer.previous_price, offer.firm_price
        if not offer.current or price is None or not previous:
            continue
        change = change_pct(price, previous)
        if abs(change) <= threshold:
            continue
        findings.append(
            Finding(
                rule=NAME,
                fingerprint=listing_fingerprint(NAME, offer.listing_id),
                severity="info",
                subject=subject(
                    ctx,
                    SUBJECT,
                    vendor_code=offer.vendor_code,
                    product=offer.product_name,
                    seller=offer.seller_name,
                    previous=shown_money(ctx, previous),
                    price=shown_money(ctx, price),
                    change=shown_pct(ctx, change),
                ),
                details=offer_details(ctx, offer)
                | {"previous_price": two_places(previous), "price": two_places(price), "change_pct": str(change)},
                listing_id=offer.listing_id,
                product_id=offer.product_id,
                distributor_id=offer.distributor_id,
            )
        )
    return RuleResult(findings)


def enabled(config: Config) -> bool:
    return config.rules.price_move.enabled


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
