"""First pipeline: check and clean each RawOffer (money strings, currency, codes, stock state, time)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler import clock
from crawler.items import (
    FLAG_BLOCKED,
    FLAG_NOT_FOUND,
    FLAG_PRICE_CONFLICT,
    FLAG_PRICE_FROM,
    FLAG_PRICE_MISSING,
    FLAG_PRICE_ON_REQUEST,
    RawOffer,
    StockState,
)
from crawler.parsing.registry_numbers import is_ogrn, is_tax_id
from crawler.settings import job_config
from crawler.stats import STAT_DROPPED
from storage.codes import normalize_gtin

_SPACES = re.compile(r"\s+")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_CENT = Decimal("0.01")
_MAX_MONEY = Decimal("999999999999.99")  # Numeric(14, 2)
_STOCK_STATES = frozenset(s.value for s in StockState)
# A price-less offer with one of these flags already says why; others get `price_missing`.
_PRICE_ABSENCE_REASONS = frozenset(
    {FLAG_PRICE_CONFLICT, FLAG_PRICE_ON_REQUEST, FLAG_PRICE_FROM, FLAG_PRICE_MISSING, FLAG_BLOCKED, FLAG_NOT_FOUND}
)


class BadOffer(ValueError):
    """An offer that cannot be stored at all (no URL, no seller)."""


def _text(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = _SPACES.sub(" ", value).strip()
    return value[:limit] or None


def money(value: str | None) -> str | None:
    """A positive amount as a two-decimal string ("12990.00"); None for anything else."""
    if value is None:
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount > _MAX_MONEY:
        return None
    cents = amount.quantize(_CENT)
    # A fraction of a kopeck (".001") rounds to nothing: no price, rather than a price of 0.00.
    return str(cents) if cents > 0 else None


def utc_iso(value: str | None, now: dt.datetime) -> str:
    """An ISO-8601 time as UTC ISO; a missing or zone-less value is not trusted and becomes `now`."""
    if value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(dt.UTC).isoformat()
    return now.astimezone(dt.UTC).isoformat()


def _flags(flags: list[str], price: str | None) -> list[str]:
    """The offer's flags once each; a price-less offer that does not say why gets `price_missing`."""
    unique = list(dict.fromkeys(flags))
    if price is None and not _PRICE_ABSENCE_REASONS.intersection(unique):
        unique.append(FLAG_PRICE_MISSING)
    return unique


def _currency(value: str | None) -> str | None:
    """An ISO 4217-shaped code (three letters), upper-cased; None for anything else."""
    code = (value or "").strip().upper()
    return code if _CURRENCY_CODE.fullmatch(code) else None


def _gtin(value: str | None) -> str | None:
    """A valid GTIN in one form (GTIN-14); anything else is not an identifier."""
    raw = (value or "").strip()
    return normalize_gtin(raw) if raw else None


def _quantity(value: int | None) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None


def _digits(value: str | None) -> str:
    return re.sub(r"[\s-]+", "", value or "")


def _seller_legal(legal: dict[str, str | None] | None) -> dict[str, str | None] | None:
    """The seller's legal details when their ИНН is one (its control digits agree); None otherwise, so a misread page
    never ties a storefront to somebody else's company. An ОГРН that is not one is dropped alone."""
    if not legal:
        return None
    tax_id = _digits(legal.get("tax_id"))
    if not is_tax_id(tax_id):
        return None
    ogrn = _digits(legal.get("ogrn"))
    return {
        "tax_id": tax_id,
        "ogrn": ogrn if is_ogrn(ogrn) else None,
        "legal_name": _text(legal.get("legal_name"), 512),
        "address": _text(legal.get("address"), 1024),
        "source": _text(legal.get("source"), 256),
    }


def clean_offer(offer: RawOffer, default_currency: str, now: dt.datetime | None = None) -> RawOffer:
    """The offer with valid values only; raises BadOffer when there is nothing to store it under."""
    url = (offer.url or "").strip()
    seller_code = (offer.seller_code or "").strip()
    if not url or not seller_code:
        raise BadOffer(f"offer without {'URL' if not url else 'seller code'} from {offer.distributor}: {offer.url!r}")
    price = money(offer.price)
    return replace(
        offer,
        url=url,
        seller_code=seller_code[:256],
        seller_name=_text(offer.seller_name, 512),
        title=_text(offer.title, 1024),
        price=price,
        old_price=money(offer.old_price),
        seller_price=money(offer.seller_price),
        card_price=money(offer.card_price),
        price_sources={str(k): str(v) for k, v in offer.price_sources.items() if v},
        region=_text(offer.region, 64),
        seller_legal=_seller_legal(offer.seller_legal),
        currency=_currency(offer.currency) or (default_currency if price is not None else None),
        stock=offer.stock if offer.stock in _STOCK_STATES else StockState.UNKNOWN.value,
        quantity=_quantity(offer.quantity),
        vendor_code=_text(offer.vendor_code, 256),
        gtin=_gtin(offer.gtin),
        seller_sku=_text(offer.seller_sku, 256),
        flags=_flags(offer.flags, price),
        fetched_at=utc_iso(offer.fetched_at, now or clock.utcnow()),
    )


class NormalizePipeline:
    """Cleans every RawOffer; the currency defaults to the distributor's configured one. An offer dropped is counted
    (the crawl-health verdict weighs it)."""

    def __init__(self, default_currency: str, crawler: Crawler | None = None) -> None:
        self.default_currency = default_currency
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        settings = crawler.settings
        config_path = settings.get("PRICEWATCH_CONFIG")
        code = settings.get("PRICEWATCH_DISTRIBUTOR")
        currency = job_config(settings).distributor(code).currency if config_path and code else "RUB"
        return cls(currency, crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawOffer):
            return item
        try:
            return clean_offer(item, self.default_currency)
        except BadOffer as exc:
            if self.crawler is not None and self.crawler.stats is not None:
                self.crawler.stats.inc_value(STAT_DROPPED)
            raise DropItem(str(exc)) from None
