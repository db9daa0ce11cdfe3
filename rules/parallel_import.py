"""Parallel import: an unauthorized seller, foreign-version markers, a foreign EAN, a price below the dealer's."""

from __future__ import annotations

from typing import Any

from crawler.config import Config
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult, listing_fingerprint
from rules.describe import offer_details, say, shown_money, subject, two_places
from storage.codes import normalize_gtin
from storage.queries.rules import OfferState

NAME = "parallel_import"
SUBJECT = {
    "ru": "Признаки параллельного импорта: {vendor_code} {product} — {seller} ({signals})",
    "en": "Parallel import signs: {vendor_code} {product} — {seller} ({signals})",
}
UNAUTHORIZED = {"ru": "продавец {seller} ({code}) не авторизован", "en": "seller {seller} ({code}) is not authorized"}
MARKER = {"ru": "на странице: «{markers}»", "en": "the page says: “{markers}”"}
GTIN = {
    "ru": "EAN {gtin} не из каталога для {vendor_code} ({catalog})",
    "en": "EAN {gtin} is not the catalog's for {vendor_code} ({catalog})",
}
BELOW_DEALER = {
    "ru": "цена {price} ниже дилерской {dealer}",
    "en": "price {price} below the dealer price {dealer}",
}
SIGNAL_NAMES = {
    "ru": {
        "unauthorized_seller": "неавторизованный продавец",
        "foreign_marker": "маркеры импорта",
        "foreign_gtin": "чужой EAN",
        "below_dealer_price": "ниже дилерской цены",
    },
    "en": {
        "unauthorized_seller": "unauthorized seller",
        "foreign_marker": "import markers",
        "foreign_gtin": "foreign EAN",
        "below_dealer_price": "below dealer price",
    },
}


def _signals(
    ctx: RuleContext, offer: OfferState, markers: list[tuple[str, str]], gtins: dict[str, str | None]
) -> list[dict[str, Any]]:
    """The signals that fire for one offer; `markers` are (phrase, its casefold), `gtins` memoizes normalizing."""
    found: list[dict[str, Any]] = []

    def add(signal: str, templates: dict[str, str], **values: Any) -> None:
        found.append({"signal": signal, "detail": say(ctx, templates, **values)})

    if not ctx.seller_authorized(offer):
        add("unauthorized_seller", UNAUTHORIZED, seller=offer.seller_name, code=offer.seller_code)
    if hits := _marker_hits(offer, markers):
        add("foreign_marker", MARKER, markers="», «".join(hits))
    catalog = ctx.gtins.get(offer.product_id, frozenset())
    gtin = _normalized_gtin(offer.listing_gtin, gtins)
    if gtin and catalog and gtin not in catalog:
        add("foreign_gtin", GTIN, gtin=gtin, vendor_code=offer.vendor_code, catalog=", ".join(sorted(catalog)))
    if _below_dealer_price(offer):
        add(
            "below_dealer_price",
            BELOW_DEALER,
            price=shown_money(ctx, offer.firm_price),
            dealer=shown_money(ctx, offer.dealer_price),
        )
    return found


def _marker_hits(offer: OfferState, markers: list[tuple[str, str]]) -> list[str]:
    """The marker phrases in the offer's title or among the markers the spider picked up."""
    page_text = " ".join(str(part) for part in (offer.title, *(offer.markers or ())) if part).casefold()
    return [phrase for phrase, folded in markers if folded in page_text]


def _normalized_gtin(raw: str | None, memo: dict[str, str | None]) -> str | None:
    """The listing's GTIN normalized (None when it has none or it is not one), each raw value normalized once."""
    if not raw:
        return None
    if raw not in memo:
        memo[raw] = normalize_gtin(raw)
    return memo[raw]


def _below_dealer_price(offer: OfferState) -> bool:
    return offer.firm_price is not None and offer.dealer_price is not None and offer.firm_price < offer.dealer_price


def evaluate(ctx: RuleContext) -> RuleResult:
    """Every matched listing's latest reading; critical when two or more signals fire at once. A delisted offer
    is gone (its alert resolves); a blocked page says nothing (its alert stays as it is)."""
    markers = [(phrase, phrase.casefold()) for phrase in ctx.config.rules.parallel_import.markers]
    gtins: dict[str, str | None] = {}
    open_alerts = ctx.open(NAME)
    findings, undecided = [], set()
    names = SIGNAL_NAMES.get(ctx.language, SIGNAL_NAMES["en"])
    for offer in ctx.offers:
        fp = listing_fingerprint(NAME, offer.listing_id)
        if offer.blocked:
            if fp in open_alerts:
                undecided.add(fp)
            continue
        if offer.delisted:
            continue
        signals = _signals(ctx, offer, markers, gtins)
        if not signals:
            continue
        findings.append(
            Finding(
                rule=NAME,
                fingerprint=fp,
                severity="critical" if len(signals) > 1 else "warning",
                subject=subject(
                    ctx,
                    SUBJECT,
                    vendor_code=offer.vendor_code,
                    product=offer.product_name,
                    seller=offer.seller_name,
                    signals=", ".join(names[s["signal"]] for s in signals),
                ),
                details=offer_details(ctx, offer)
                | {
                    "signals": signals,
                    "price": two_places(offer.firm_price),
                    "dealer_price": two_places(offer.dealer_price),
                },
                listing_id=offer.listing_id,
                product_id=offer.product_id,
                distributor_id=offer.distributor_id,
            )
        )
    return RuleResult(findings, frozenset(undecided))


def enabled(config: Config) -> bool:
    return config.rules.parallel_import.enabled


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
