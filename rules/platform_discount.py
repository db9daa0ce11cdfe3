"""Platform discount: the shown (or card) price below RRP × (1 − tolerance) while the basis price is not.

The marketplace's own discount, not the seller's price: an info finding, never a dumping alert against the seller
(dumping judges the basis price, this rule only offers whose basis price is at or above the threshold)."""

from __future__ import annotations

from decimal import Decimal

from crawler.config import Config
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult, listing_fingerprint
from rules.describe import change_pct, offer_details, shown_money, subject, two_places
from rules.dumping import judged_price, price_details, rrp_and_threshold, undecided_prices
from storage.queries.rules import OfferState

NAME = "platform_discount"
SUBJECT = {
    "ru": "Скидка площадки: {vendor_code} {product} — {seller}: продавец {seller_price}, "
    "на витрине {shown} при РРЦ {rrp}",
    "en": "Platform discount: {vendor_code} {product} — {seller}: seller {seller_price}, shown {shown} vs RRP {rrp}",
}


def _discounted(offer: OfferState, threshold: Decimal) -> tuple[str, Decimal] | None:
    """The lowest of the shown and the card price when it is below the threshold: ("shown" | "card", price)."""
    below = [
        (price, kind)
        for kind, price in (("shown", offer.firm_price), ("card", offer.card_price))
        if price is not None and price < threshold
    ]
    if not below:
        return None
    price, kind = min(below)
    return kind, price


def _finding(ctx: RuleContext, offer: OfferState) -> Finding | None:
    basis = ctx.price_basis(offer)
    price, limits = judged_price(ctx, offer), rrp_and_threshold(offer)
    if price is None or limits is None or price < limits[1]:
        return None  # unknown, not comparable, or dumping
    rrp, threshold = limits
    discounted = _discounted(offer, threshold)
    if discounted is None:
        return None
    kind, shown = discounted
    return Finding(
        rule=NAME,
        fingerprint=listing_fingerprint(NAME, offer.listing_id),
        severity="info",
        subject=subject(
            ctx,
            SUBJECT,
            vendor_code=offer.vendor_code,
            product=offer.product_name,
            seller=offer.seller_name,
            seller_price=shown_money(ctx, price),
            shown=shown_money(ctx, shown),
            rrp=shown_money(ctx, rrp),
        ),
        details=offer_details(ctx, offer)
        | price_details(offer, basis, price)
        | {
            "discounted_price": two_places(shown),
            "discounted_by": kind,
            "deviation_pct": str(change_pct(shown, rrp)),
            "basis_deviation_pct": str(change_pct(price, rrp)),
        },
        listing_id=offer.listing_id,
        product_id=offer.product_id,
        distributor_id=offer.distributor_id,
    )


def evaluate(ctx: RuleContext) -> RuleResult:
    """Resolves as dumping does: when the shown price recovers (or the basis price falls: dumping then); an
    unknown reading keeps the alert as it is."""
    findings = [finding for offer in ctx.offers if (finding := _finding(ctx, offer)) is not None]
    return RuleResult(findings, undecided_prices(ctx, NAME))


def enabled(config: Config) -> bool:
    """Judged against dumping's thresholds: on with dumping."""
    return config.rules.platform_discount.enabled and config.rules.dumping.enabled


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
