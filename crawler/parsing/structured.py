"""schema.org Product data out of a page: JSON-LD first, then microdata and Open Graph through extruct.

JSON-LD blocks are cut out with a regex and read with `json.loads` (prices as Decimal, never float): that is
many times faster than extruct, which parses the whole page with lxml. extruct runs only when no JSON-LD
Product was found and the page has microdata or Open Graph markup at all. Malformed data never raises: a block
that cannot be read is skipped.

Price decisions follow `crawler.parsing.prices`: one offer, or offers that agree, give the product's price;
offers with different prices give no price and FLAG_PRICE_CONFLICT (each offer is kept in `offers`); an
AggregateOffer with lowPrice < highPrice gives lowPrice with FLAG_PRICE_FROM.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crawler.items import FLAG_PRICE_CONFLICT, FLAG_PRICE_FROM, StockState
from crawler.parsing.identifiers import clean_identifier
from crawler.parsing.prices import currency_code, money, parse_price
from crawler.parsing.stock import parse_stock
from crawler.parsing.text import normalize_space

logger = logging.getLogger(__name__)

_JSONLD_BLOCK = re.compile(
    r"<script\b[^>]*\btype\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)
_WRAPPERS = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
# Plain substring tests: a case-insensitive regex over a whole Cyrillic page costs ~40x more.
_MICRODATA_OR_OG = ("itemtype", "itemType", "ITEMTYPE", "og:type", "product:price")
_MACHINE_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_PRODUCT_TYPES = {"product", "individualproduct", "productmodel", "productgroup", "someproducts"}
_GTIN_KEYS = ("gtin13", "gtin", "gtin14", "gtin12", "gtin8", "ean")
_MAX_DEPTH = 6
_MAX_NODES = 2_000


@dataclass(frozen=True)
class StructuredOffer:
    """One schema.org Offer: the raw price string beside its parsed amount."""

    price: str | None
    amount: Decimal | None
    currency: str | None
    availability: StockState
    availability_raw: str | None
    seller_name: str | None
    quantity: int | None = None  # `inventoryLevel`: units in stock


@dataclass(frozen=True)
class StructuredProduct:
    """The page's schema.org Product; `price`/`amount`/`availability` summarise `offers` (see module docstring)."""

    name: str | None
    price: str | None
    amount: Decimal | None
    currency: str | None
    flag: str | None
    availability: StockState
    availability_raw: str | None
    sku: str | None
    mpn: str | None
    gtin: str | None
    brand: str | None
    seller_name: str | None
    offers: list[StructuredOffer] = field(default_factory=list)
    source: str = "json-ld"
    quantity: int | None = None  # the units in stock its offers agree on


def _text(value: Any) -> str | None:
    """A scalar as a clean string: strings, numbers, {"name": …} objects, the first of a list."""
    if isinstance(value, list):
        return next((t for t in map(_text, value) if t), None)
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value"))
    if isinstance(value, bool) or value is None:
        return None
    return normalize_space(str(value)) or None


def _amount(value: Any, raw: str | None) -> Decimal | None:
    """schema.org prices are machine numbers with "." as the decimal separator; anything else goes to parse_price."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        number = Decimal(value)
    elif raw is not None and _MACHINE_NUMBER.fullmatch(raw):
        number = Decimal(raw)
    else:
        return parse_price(raw).amount
    return money(number)


def _is_product(node: dict[str, Any]) -> bool:
    types = node.get("@type")
    for t in types if isinstance(types, list) else [types]:
        if isinstance(t, str) and re.split(r"[/:#]", t)[-1].lower() in _PRODUCT_TYPES:
            return True
    return False


def _find_product(roots: list[Any]) -> dict[str, Any] | None:
    """Breadth-first, so the page's own Product comes before related products nested deeper; one with offers wins."""
    queue: deque[tuple[Any, int]] = deque((root, 0) for root in roots)
    first: dict[str, Any] | None = None
    seen = 0
    while queue and seen < _MAX_NODES:
        node, depth = queue.popleft()
        seen += 1
        if isinstance(node, dict):
            if _is_product(node):
                if node.get("offers"):
                    return node
                first = first or node
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth < _MAX_DEPTH:
            queue.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return first


def _jsonld_blocks(html: str) -> Iterator[Any]:
    for match in _JSONLD_BLOCK.finditer(html):
        block = match.group(1)
        for attempt in (block, _TRAILING_COMMA.sub(r"\1", _WRAPPERS.sub("", block))):
            try:
                yield json.loads(attempt, parse_float=Decimal, strict=False)
                break
            except (ValueError, RecursionError):
                continue


def _microdata_and_og(html: str, url: str) -> tuple[list[Any], list[Any]]:
    import extruct

    try:
        data = extruct.extract(html, base_url=url, syntaxes=["microdata", "opengraph"], uniform=True)
    except Exception as exc:  # a third-party parser meeting hostile markup: the page just has no structured data
        logger.debug("extruct failed on %s: %s", url, exc)
        return [], []
    return data.get("microdata") or [], data.get("opengraph") or []


def _og_product(items: list[Any]) -> dict[str, Any] | None:
    """Open Graph product tags as a schema.org-shaped Product."""
    for og in items:
        if not isinstance(og, dict):
            continue
        if str(og.get("@type", "")).lower() != "product" and "product:price:amount" not in og:
            continue
        return {
            "name": og.get("og:title"),
            "brand": og.get("product:brand"),
            "sku": og.get("product:retailer_item_id"),
            "gtin": og.get("product:ean") or og.get("product:upc"),
            "offers": {
                "price": og.get("product:price:amount") or og.get("og:price:amount"),
                "priceCurrency": og.get("product:price:currency") or og.get("og:price:currency"),
                "availability": og.get("product:availability") or og.get("og:availability"),
            },
        }
    return None


def _quantity(value: Any) -> int | None:
    """`inventoryLevel` as schema.org writes it (a QuantitativeValue, or a bare number): whole units, else None."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    try:
        number = Decimal(text)
    except ArithmeticError:
        return None
    return int(number) if number >= 0 and number == number.to_integral_value() else None


def _offer(node: dict[str, Any]) -> StructuredOffer:
    value = node.get("price")
    spec = node.get("priceSpecification")
    if value is None and spec is not None:
        spec = spec[0] if isinstance(spec, list) and spec else spec
        if isinstance(spec, dict):
            value = spec.get("price")
            node = {**spec, **node}
    price = _text(value)
    amount = _amount(value, price)
    currency_raw = _text(node.get("priceCurrency"))
    currency = currency_code(currency_raw) or (currency_raw if currency_raw and len(currency_raw) == 3 else None)
    availability_raw = _text(node.get("availability"))
    return StructuredOffer(
        price=price,
        amount=amount,
        currency=currency or parse_price(price).currency,
        availability=parse_stock(availability_raw).state,
        availability_raw=availability_raw,
        seller_name=_text(node.get("seller")),
        quantity=_quantity(node.get("inventoryLevel")),
    )


def _offers(value: Any) -> list[dict[str, Any]]:
    """Offer nodes: one Offer, a list, or an AggregateOffer's nested offers (the AggregateOffer itself if none)."""
    nodes = value if isinstance(value, list) else [value]
    found: list[dict[str, Any]] = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        nested = node.get("offers")
        if nested and isinstance(nested, list | dict):
            found.extend(n for n in (nested if isinstance(nested, list) else [nested]) if isinstance(n, dict))
        else:
            found.append(node)
    return found


def _one(values: list[Any]) -> Any:
    """The value all give, or None when they differ or none is given."""
    distinct = {v for v in values if v is not None}
    return distinct.pop() if len(distinct) == 1 else None


def _aggregate_price(node: dict[str, Any], offer: StructuredOffer) -> tuple[str | None, Decimal | None, str | None]:
    """An AggregateOffer's lowPrice (else its price); a higher highPrice makes it a lower bound."""
    low_raw = _text(node.get("lowPrice"))
    low = _amount(node.get("lowPrice"), low_raw) if low_raw else None
    price, amount = (low_raw, low) if low is not None else (offer.price, offer.amount)
    high = _amount(node.get("highPrice"), _text(node.get("highPrice")))
    return price, amount, FLAG_PRICE_FROM if amount is not None and high is not None and high > amount else None


def _price(
    offer_nodes: list[dict[str, Any]], offers: list[StructuredOffer]
) -> tuple[str | None, Decimal | None, str | None]:
    """The product's (raw price, amount, flag) from its offers."""
    if len(offer_nodes) == 1 and ("lowPrice" in offer_nodes[0] or "highPrice" in offer_nodes[0]):
        return _aggregate_price(offer_nodes[0], offers[0])
    amounts = {o.amount for o in offers if o.amount is not None}
    if len(amounts) > 1:
        return None, None, FLAG_PRICE_CONFLICT
    if not amounts:
        return None, None, None
    amount = amounts.pop()
    return next(o.price for o in offers if o.amount == amount), amount, None


def _gtin(node: dict[str, Any]) -> str | None:
    """The first GTIN the node gives, by the keys schema.org and shops use for it."""
    return next((g for g in (clean_identifier(_text(node.get(k))) for k in _GTIN_KEYS) if g), None)


def _availability(offers: list[StructuredOffer]) -> StockState:
    """The stock state all offers share; unknown when they differ (or there are none)."""
    states = {o.availability for o in offers}
    return states.pop() if len(states) == 1 else StockState.UNKNOWN


def _product(node: dict[str, Any], source: str) -> StructuredProduct:
    offer_nodes = _offers(node.get("offers"))
    offers = [_offer(o) for o in offer_nodes]
    price, amount, flag = _price(offer_nodes, offers)
    return StructuredProduct(
        name=_text(node.get("name")),
        price=price,
        amount=amount,
        currency=_one([o.currency for o in offers]),
        flag=flag,
        availability=_availability(offers),
        availability_raw=_one([o.availability_raw for o in offers]),
        # The product's own GTIN, else the first one its offers give.
        gtin=_gtin(node) or next(filter(None, map(_gtin, offer_nodes)), None),
        sku=clean_identifier(_text(node.get("sku")) or _one([_text(o.get("sku")) for o in offer_nodes])),
        mpn=clean_identifier(_text(node.get("mpn")) or _one([_text(o.get("mpn")) for o in offer_nodes])),
        brand=_text(node.get("brand")) or _text(node.get("manufacturer")),
        seller_name=_one([o.seller_name for o in offers]),
        offers=offers,
        source=source,
        quantity=_one([o.quantity for o in offers]),
    )


def extract_product(html: str, url: str) -> StructuredProduct | None:
    """The page's schema.org Product (JSON-LD, else microdata, else Open Graph), or None when it carries none."""
    product = _find_product(list(_jsonld_blocks(html)))
    if product is not None:
        return _product(product, "json-ld")
    if not any(marker in html for marker in _MICRODATA_OR_OG):
        return None
    microdata, opengraph = _microdata_and_og(html, url)
    if (product := _find_product(microdata)) is not None:
        return _product(product, "microdata")
    if (product := _og_product(opengraph)) is not None:
        return _product(product, "opengraph")
    return None
