"""Dumping: the latest firm price below RRP × (1 − tolerance), against the price list in force on that day."""

from __future__ import annotations

from decimal import Decimal

from crawler.config import Config
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult, listing_fingerprint
from rules.describe import change_pct, local_date, offer_details, shown_money, shown_pct, subject, two_places
from storage.queries.rules import OfferState, Spell, dumping_spells

NAME = "dumping"
RRP_CURRENCY = "RUB"  # the price list's currency; offers in another currency are not compared
SUBJECT = {
    "ru": "Демпинг: {vendor_code} {product} — {seller}: {price} при РРЦ {rrp} ({deviation})",
    "en": "Dumping: {vendor_code} {product} — {seller}: {price} vs RRP {rrp} ({deviation})",
}


def _price_unknown(offer: OfferState) -> bool:
    """No firm price and no reason stated (a page that lost its price, a blocked page): nothing to judge.

    An offer delisted, "on request" or "from" says plainly it has no firm price now: its alert resolves."""
    return offer.firm_price is None and not (offer.price_flagged or offer.delisted)


def _violators(ctx: RuleContext) -> list[tuple[OfferState, Decimal, Decimal]]:
    """(offer, its firm price, its RRP) for every offer priced below its threshold, in the RRP's currency."""
    found = []
    for offer in ctx.offers:
        price, rrp, threshold = offer.firm_price, offer.rrp, offer.threshold_price
        if price is None or rrp is None or threshold is None or (offer.currency or RRP_CURRENCY) != RRP_CURRENCY:
            continue
        if price < threshold:
            found.append((offer, price, rrp))
    return found


def evaluate(ctx: RuleContext) -> RuleResult:
    """The RRP, tolerance and promo are those in force on the observation's date (computed with the offers);
    a promo without a tolerance of its own exempts the offer."""
    rule = ctx.config.rules.dumping
    violators = _violators(ctx)
    spells = dumping_spells(ctx.session, rule, ctx.tz, [offer.listing_id for offer, _, _ in violators], NAME)
    findings = []
    for offer, price, rrp in violators:
        spell = spells.get(offer.listing_id, Spell(offer.observed_at, 0))
        deviation = change_pct(price, rrp)
        details = offer_details(ctx, offer) | {
            "price": two_places(price),
            "rrp": two_places(rrp),
            "threshold_price": two_places(offer.threshold_price),
            "deviation_pct": str(deviation),
            "tolerance_pct": two_places(offer.tolerance_pct),
            "days_in_violation": (local_date(ctx, offer.observed_at) - local_date(ctx, spell.since)).days + 1,
            "repeat_offences": spell.repeat_offences,
            "promo": offer.promo,
        }
        findings.append(
            Finding(
                rule=NAME,
                fingerprint=listing_fingerprint(NAME, offer.listing_id),
                severity="critical" if deviation <= -rule.critical_below_pct else "warning",
                subject=subject(
                    ctx,
                    SUBJECT,
                    vendor_code=offer.vendor_code,
                    product=offer.product_name,
                    seller=offer.seller_name,
                    price=shown_money(ctx, price),
                    rrp=shown_money(ctx, rrp),
                    deviation=shown_pct(ctx, deviation),
                ),
                details=details,
                listing_id=offer.listing_id,
                product_id=offer.product_id,
                distributor_id=offer.distributor_id,
            )
        )
    offers = ctx.offers_by_listing
    undecided = frozenset(
        fp
        for fp, alert in ctx.open(NAME).items()
        if (latest := offers.get(alert.listing_id or 0)) is not None and _price_unknown(latest)
    )
    return RuleResult(findings, undecided)


def enabled(config: Config) -> bool:
    return config.rules.dumping.enabled


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
