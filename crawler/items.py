"""The item every spider yields (one seller's offer as the page showed it, raw beside parsed) and its enums."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class StockState(enum.StrEnum):
    """What a page says of an offer's stock; `unknown` (blocked, unreadable) never raises an alert."""

    IN_STOCK = "in_stock"
    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"
    PREORDER = "preorder"
    UNKNOWN = "unknown"


class Health(enum.StrEnum):
    """A crawl run's verdict: `ok` runs are believed; `degraded` and `failed` ones open and resolve nothing."""

    OK = "ok"
    DEGRADED = "degraded"
    FAILED = "failed"


# Why a price is absent or doubtful; kept on the observation so nobody guesses.
FLAG_PRICE_CONFLICT = "price_conflict"  # two different prices for one offer on one page
FLAG_PRICE_ON_REQUEST = "price_on_request"  # "по запросу", "call for price"
FLAG_PRICE_FROM = "price_from"  # "от 1 000 ₽": a lower bound, not a firm price
FLAG_PRICE_MISSING = "price_missing"  # a product page without a readable price
FLAG_STRUCTURED_MISMATCH = "structured_mismatch"  # JSON-LD says one thing, the visible page another
FLAG_BLOCKED = "blocked"  # 403, captcha or an anti-bot challenge: nothing can be known
FLAG_NOT_FOUND = "not_found"  # 404/410: the offer is gone (delisted)
FLAG_PRICE_SUSPECT = "price_suspect"  # far below or above the RRP in force: a misread or a wrong match, not a price


@dataclass
class RawOffer:
    """One offer on one page. `price` is a decimal string ("12990.00") or None; never a float."""

    distributor: str
    url: str
    seller_code: str
    seller_name: str | None = None
    title: str | None = None
    price: str | None = None
    price_raw: str | None = None
    old_price: str | None = None
    old_price_raw: str | None = None
    currency: str | None = None
    stock: str = StockState.UNKNOWN.value
    stock_raw: str | None = None
    quantity: int | None = None
    vendor_code: str | None = None
    gtin: str | None = None
    seller_sku: str | None = None
    markers: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    structured: dict[str, str | None] = field(default_factory=dict)
    http_status: int | None = None
    fetched_at: str | None = None  # UTC, ISO 8601
    is_canary: bool = False
    screenshot_path: str | None = None
    html_path: str | None = None
    json_path: str | None = None  # the raw JSON document the offer was read from, saved as evidence
    # A marketplace's prices beside `price` (the shown price, what a buyer pays without a card): the seller's own
    # price before the platform's discount, and a card/bank price; decimal strings, kopecks already converted.
    seller_price: str | None = None
    card_price: str | None = None
    price_sources: dict[str, str] = field(default_factory=dict)  # field → where it was read ("json:…", "css:…")
    region: str | None = None  # the delivery region's code (a marketplace entry's `regions`)
    # The seller's legal details as the marketplace publishes them: tax_id, ogrn, legal_name, address, source.
    seller_legal: dict[str, str | None] | None = None
