"""Stock-out: available at the listing's last known reading and now out of stock, delisted (404) or gone."""

from __future__ import annotations

from crawler.config import Config
from crawler.items import StockState
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult, stock_readings
from rules.describe import offer_details, subject
from storage.queries.listings import GONE_LEFT_CARD
from storage.queries.rules import AVAILABLE, OfferState

NAME = "stock_out"
SUBJECT = {
    "ru": "Нет в наличии: {vendor_code} {product} — {seller}",
    "en": "Out of stock: {vendor_code} {product} — {seller}",
}
SUBJECT_DELISTED = {
    "ru": "Снят с продажи: {vendor_code} {product} — {seller}",
    "en": "Delisted: {vendor_code} {product} — {seller}",
}
SUBJECT_SELLER_GONE = {
    "ru": "Продавец пропал с карточки: {vendor_code} {product} — {seller}",
    "en": "Seller left the card: {vendor_code} {product} — {seller}",
}
# How an offer is gone, for the message (crawler/i18n.py `gone.*`): its seller left a card, or it is delisted.
GONE_SELLER_LEFT, GONE_DELISTED = "seller_left", "delisted"
SUBJECTS = {None: SUBJECT, GONE_DELISTED: SUBJECT_DELISTED, GONE_SELLER_LEFT: SUBJECT_SELLER_GONE}


def evaluate(ctx: RuleContext) -> RuleResult:
    """Opens on the change from available (the listing's last known reading) to out; stays found while the listing
    stays out. A listing gone (missing from a complete feed, its seller missing from a card, its page 404) is out.

    Only the distributor's latest run counts, and it must be ok (a degraded or failed run holds the rule, see
    RULE). A listing not read in that run, or read as unknown, cannot be judged: its open alert is kept.
    """
    open_alerts = ctx.open(NAME)
    judged, undecided = stock_readings(ctx, NAME)
    findings = []
    for fp, offer in judged:
        if offer.stock != StockState.OUT_OF_STOCK:
            continue
        if offer.last_known_stock not in AVAILABLE and fp not in open_alerts:
            continue
        findings.append(_finding(ctx, fp, offer))
    return RuleResult(findings, undecided)


def _gone(offer: OfferState) -> str | None:
    """How the offer is gone, if it is: its seller left a marketplace card, or it is delisted (404, redirected away,
    missing from a complete feed)."""
    if offer.gone == GONE_LEFT_CARD:
        return GONE_SELLER_LEFT
    return GONE_DELISTED if offer.delisted else None


def _finding(ctx: RuleContext, fp: str, offer: OfferState) -> Finding:
    gone = _gone(offer)
    return Finding(
        rule=NAME,
        fingerprint=fp,
        severity="warning",
        subject=subject(
            ctx,
            SUBJECTS[gone],
            vendor_code=offer.vendor_code,
            product=offer.product_name,
            seller=offer.seller_name,
        ),
        details=offer_details(ctx, offer)
        | {
            "previous_stock": offer.last_known_stock.value if offer.last_known_stock else None,
            "stock": offer.stock.value,
            "delisted": offer.delisted,
            "gone": gone,
            "last_in_stock_at": offer.last_in_stock_at.isoformat() if offer.last_in_stock_at else None,
        },
        listing_id=offer.listing_id,
        product_id=offer.product_id,
        distributor_id=offer.distributor_id,
    )


def enabled(config: Config) -> bool:
    return config.rules.stock_out.enabled


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
