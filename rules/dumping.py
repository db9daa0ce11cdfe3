"""Dumping: the latest firm basis price below RRP × (1 − tolerance), against the price list in force on that day.

The basis price is the seller's own by default (`rules.dumping.price_basis`, a marketplace's `price_basis`): a
shown price below the threshold only because of the platform's discount is `platform_discount`, not dumping."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crawler.config import Config, PriceBasis
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult, listing_fingerprint
from rules.describe import change_pct, local_date, offer_details, shown_money, shown_pct, subject, two_places
from storage.queries.rules import OfferState, Spell, dumping_spells

NAME = "dumping"
RRP_CURRENCY = "RUB"  # the price list's currency; offers in another currency are not compared
SUBJECT = {
    "ru": "Демпинг: {vendor_code} {product} — {seller}: {price} при РРЦ {rrp} ({deviation})",
    "en": "Dumping: {vendor_code} {product} — {seller}: {price} vs RRP {rrp} ({deviation})",
}


def basis_price(offer: OfferState, basis: PriceBasis, *, seller_price_read: bool = False) -> Decimal | None:
    """The firm price judged on `basis`; the seller's own or the card price falls back to the shown one where the
    page has none (a shop has only the one price, a card price not shown means the buyer pays the shown one).

    Where the site is read for the seller's own price (`seller_price_read`), a reading without it is unknown, never
    the shown price: that may hold the platform's discount, and blaming the seller for it is a false alert."""
    if basis == "seller" and offer.seller_price is not None:
        return offer.seller_price
    if basis == "seller" and seller_price_read:
        return None
    if basis == "card" and offer.card_price is not None:
        return offer.card_price
    return offer.firm_price


def judged_price(ctx: RuleContext, offer: OfferState) -> Decimal | None:
    """The offer's price as dumping judges it at its distributor (`basis_price`)."""
    return basis_price(offer, ctx.price_basis(offer), seller_price_read=ctx.reads_seller_price(offer))


def price_unknown(ctx: RuleContext, offer: OfferState) -> bool:
    """No firm price and no reason stated (a page that lost its price, a blocked page): nothing to judge.

    An offer delisted, "on request" or "from" says plainly it has no firm price now: its alert resolves."""
    return judged_price(ctx, offer) is None and not (offer.price_flagged or offer.delisted)


def rrp_and_threshold(offer: OfferState) -> tuple[Decimal, Decimal] | None:
    """The offer's RRP and threshold, when it can be compared with them: in the RRP's currency, no promo exempting
    it."""
    rrp, threshold = offer.rrp, offer.threshold_price
    if rrp is None or threshold is None or (offer.currency or RRP_CURRENCY) != RRP_CURRENCY:
        return None
    return rrp, threshold


def price_details(offer: OfferState, basis: PriceBasis, price: Decimal) -> dict[str, Any]:
    """The prices dumping and platform_discount give in their details: `price` (the basis price) and the others."""
    return {
        "price": two_places(price),
        "price_basis": basis,
        "shown_price": two_places(offer.firm_price),
        "seller_price": two_places(offer.seller_price),
        "card_price": two_places(offer.card_price),
        "rrp": two_places(offer.rrp),
        "threshold_price": two_places(offer.threshold_price),
        "tolerance_pct": two_places(offer.tolerance_pct),
        "promo": offer.promo,
    }


def _violators(ctx: RuleContext) -> list[tuple[OfferState, Decimal, Decimal]]:
    """(offer, its basis price, its RRP) for every offer priced below its threshold, in the RRP's currency."""
    found = []
    for offer in ctx.offers:
        price, limits = judged_price(ctx, offer), rrp_and_threshold(offer)
        if price is not None and limits is not None and price < limits[1]:
            found.append((offer, price, limits[0]))
    return found


def evaluate(ctx: RuleContext) -> RuleResult:
    """The RRP, tolerance and promo are those in force on the observation's date (computed with the offers);
    a promo without a tolerance of its own exempts the offer."""
    rule = ctx.config.rules.dumping
    violators = _violators(ctx)
    own_basis = {d.code: d.price_basis for d in ctx.config.distributors if d.price_basis is not None}
    ids = [offer.listing_id for offer, _, _ in violators]
    spells = dumping_spells(ctx.session, rule, ctx.tz, ids, NAME, price_basis=own_basis)
    findings = []
    for offer, price, rrp in violators:
        spell = spells.get(offer.listing_id, Spell(offer.observed_at, 0))
        deviation = change_pct(price, rrp)
        details = (
            offer_details(ctx, offer)
            | price_details(offer, ctx.price_basis(offer), price)
            | {
                "deviation_pct": str(deviation),
                "days_in_violation": (local_date(ctx, offer.observed_at) - local_date(ctx, spell.since)).days + 1,
                "repeat_offences": spell.repeat_offences,
            }
        )
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
    return RuleResult(findings, undecided_prices(ctx, NAME))


def undecided_prices(ctx: RuleContext, rule: str) -> frozenset[str]:
    """The rule's open fingerprints whose listing's latest price is unknown: kept open as they are."""
    offers = ctx.offers_by_listing
    return frozenset(
        fp
        for fp, alert in ctx.open(rule).items()
        if (latest := offers.get(alert.listing_id or 0)) is not None and price_unknown(ctx, latest)
    )


def enabled(config: Config) -> bool:
    return config.rules.dumping.enabled


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
