"""Offers out of pages: config selectors, schema.org data, and what to believe when they disagree.

Every spider reads an offer's raw strings into `OfferFields` and turns them into a `RawOffer` with `build_offer`,
so the rules live in one place: the visible page wins over JSON-LD (and the offer carries the disagreement),
two different visible prices give no price, and a page without a readable price is flagged, never guessed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from cssselect import SelectorError
from lxml import etree
from parsel import css2xpath
from scrapy.http import TextResponse

from crawler import clock
from crawler.config import Distributor, Selectors
from crawler.errors import UserError
from crawler.items import (
    FLAG_BLOCKED,
    FLAG_NOT_FOUND,
    FLAG_PRICE_MISSING,
    FLAG_STRUCTURED_MISMATCH,
    RawOffer,
    StockState,
)
from crawler.parsing.identifiers import clean_identifier
from crawler.parsing.prices import ParsedPrice, currency_code, parse_price, parse_prices_consistent
from crawler.parsing.stock import parse_stock
from crawler.parsing.structured import StructuredOffer, StructuredProduct
from crawler.parsing.text import normalize_space

XPATH_PREFIX = "xpath:"
_NAMESPACES = {"re": "http://exslt.org/regular-expressions", "set": "http://exslt.org/sets"}
# parsel's translation of a class selector `.x`: a predicate that libxml2 evaluates slowly on every element.
_CLASS_STEP = re.compile(
    r"\[@class and contains\(@class, '([^']+)'\) and "
    r"contains\(concat\(' ', normalize-space\(@class\), ' '\), ' \1 '\)\]"
)
_STRING = etree.XPath("string()")
_DIGITS = re.compile(r"\d+")
# Offer fields a page is read for; `product_links`/`next_page`/`offer` are navigation, not fields.
_FIELDS = (
    "name",
    "price",
    "seller_price",
    "card_price",
    "old_price",
    "currency",
    "availability",
    "quantity",
    "vendor_code",
    "ean",
    "seller",
    "seller_id",
    "markers",
)
# Stock states that say the same thing at a coarser grain: "in stock" vs "3 left" is no disagreement.
_STOCK_CLASS = {
    StockState.IN_STOCK: "available",
    StockState.LOW_STOCK: "available",
    StockState.OUT_OF_STOCK: "out",
    StockState.PREORDER: "preorder",
}


def utc_now_iso() -> str:
    return clock.utcnow().isoformat()


@dataclass
class OfferFields:
    """What the page (or a feed record) says about one offer, as raw text."""

    name: str | None = None
    prices: list[str] = field(default_factory=list)
    seller_price: str | None = None  # a marketplace's: the seller's own price, before the platform's discount
    card_price: str | None = None
    old_price: str | None = None
    currency: str | None = None
    availability: str | None = None
    stock: StockState | None = None  # a state the source states outright, e.g. a feed's available="false"
    quantity: str | None = None
    vendor_code: str | None = None
    ean: str | None = None
    seller: str | None = None
    seller_id: str | None = None
    seller_sku: str | None = None
    markers: list[str] = field(default_factory=list)

    def says_anything(self) -> bool:
        """True when the page shows something of a product offer (a product page, not a listing or an article)."""
        return bool(self.prices or self.name or self.availability or self.vendor_code or self.ean)


_HTML_PARSER = etree.HTMLParser(encoding="utf-8", recover=True, huge_tree=True)


def page_root(response: TextResponse) -> Any:
    """The page's lxml tree, for FieldReader.

    Built from the text Scrapy decoded (its encoding rules, undecodable bytes replaced), without the parsel
    Selector that compiled XPath does not need: that saves a quarter of the parse on every page.
    """
    text = response.text.replace("\x00", "")
    root = etree.fromstring(text.encode("utf-8"), parser=_HTML_PARSER) if text.strip() else None
    return etree.fromstring(b"<html/>", parser=_HTML_PARSER) if root is None else root


def css_to_xpath(css: str) -> str:
    """parsel's XPath for a CSS selector, with each class-only step as the same test on the `class` attribute.

    `*[@class and contains(@class, 'x') and …]` becomes `*/@class[contains(., 'x')][…]/..`: the same elements,
    found about twice as fast, which matters when a dozen selectors run on every one of 20,000 pages.
    """
    return _CLASS_STEP.sub(
        r"/@class[contains(., '\1')][contains(concat(' ', normalize-space(.), ' '), ' \1 ')]/..", css2xpath(css)
    )


# Shops repeat the same price and availability texts on page after page: parse each distinct text once.
@functools.lru_cache(maxsize=8192)
def _parse_prices(texts: tuple[str, ...], separator: str | None) -> ParsedPrice:
    return parse_prices_consistent(list(texts), separator)


_parse_price = functools.lru_cache(maxsize=8192)(parse_price)
_parse_stock = functools.lru_cache(maxsize=1024)(parse_stock)


def _text_of(match: Any) -> str:
    """An XPath result's text: an element's whole text, or the string an attribute/text()/function gave."""
    if isinstance(match, str):
        return match
    if isinstance(match, etree._Element):
        return str(_STRING(match))
    return "" if match is None or isinstance(match, bool) else str(match)


def compile_selector(query: str, where: str) -> etree.XPath:
    """A config selector (CSS, or XPath after `xpath:`) compiled for lxml; `where` names it in the error."""
    is_xpath = query.startswith(XPATH_PREFIX)
    try:
        path = query.removeprefix(XPATH_PREFIX).strip() if is_xpath else css_to_xpath(query)
        return etree.XPath(path, namespaces=_NAMESPACES, smart_strings=False)
    except (SelectorError, etree.XPathSyntaxError) as exc:
        kind = "XPath" if is_xpath else "CSS"
        raise UserError(f"{where}: {query!r} is not a valid {kind} selector ({exc})") from None


def first_text(query: etree.XPath, root: Any) -> str | None:
    """The first non-empty text a compiled selector matches under `root`, spaces normalized."""
    found = query(root)
    for match in found if isinstance(found, list) else [found]:
        text = normalize_space(_text_of(match))
        if text:
            return text
    return None


class FieldReader:
    """A distributor's selectors, compiled once, applied to lxml trees: CSS by default, XPath after `xpath:`.

    Spiders read many thousands of pages with the same dozen selectors, so each is translated and compiled once
    and evaluated on the lxml element directly (no parsel Selector per match).
    """

    def __init__(self, selectors: Selectors) -> None:
        self._queries: dict[str, etree.XPath] = {}
        for name in (*_FIELDS, "product_links", "next_page", "offer"):
            query = getattr(selectors, name)
            if query:
                self._queries[name] = compile_selector(query, f"selectors.{name}")

    def has(self, name: str) -> bool:
        return name in self._queries

    def select(self, root: Any, name: str) -> list[Any]:
        """What the field's selector matches under `root` (an lxml element): elements and/or strings."""
        query = self._queries.get(name)
        if query is None:
            return []
        found = query(root)
        return found if isinstance(found, list) else [found]

    def texts(self, root: Any, name: str) -> list[str]:
        """Every match's text, spaces normalized, empty ones dropped."""
        out = []
        for match in self.select(root, name):
            text = normalize_space(_text_of(match))
            if text:
                out.append(text)
        return out

    def text(self, root: Any, name: str) -> str | None:
        texts = self.texts(root, name)
        return texts[0] if texts else None

    def links(self, root: Any, name: str) -> list[str]:
        """Hrefs of the matched links (or the matched strings themselves, for `::attr(href)` / `@href`)."""
        out = []
        for match in self.select(root, name):
            if isinstance(match, str):
                href = match
            elif isinstance(match, etree._Element):
                href = match.get("href") or next(iter(match.xpath(".//a/@href")), "")
            else:
                continue
            if href.strip():
                out.append(href.strip())
        return out

    def fields(self, root: Any) -> OfferFields:
        """Read every configured offer field under `root` (a whole page, or one offer's element)."""
        read = {name: self.texts(root, name) for name in _FIELDS if name in self._queries}

        def first(name: str) -> str | None:
            texts = read.get(name)
            return texts[0] if texts else None

        return OfferFields(
            name=first("name"),
            prices=list(dict.fromkeys(read.get("price", []))),
            seller_price=first("seller_price"),
            card_price=first("card_price"),
            old_price=first("old_price"),
            currency=first("currency"),
            availability=first("availability"),
            quantity=first("quantity"),
            vendor_code=clean_identifier(first("vendor_code")),
            ean=clean_identifier(first("ean")),
            seller=first("seller"),
            seller_id=first("seller_id"),
            markers=list(dict.fromkeys(read.get("markers", []))),
        )


def _quantity(text: str | None) -> int | None:
    if not text:
        return None
    parsed = _parse_stock(text).quantity
    if parsed is not None:
        return parsed
    digits = _DIGITS.findall(text.replace("\u00a0", "").replace(" ", ""))
    return int(digits[0]) if len(digits) == 1 else None


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


_NO_PRICE = ParsedPrice(None, None, None, None)
# A page without schema.org data reads like one whose data says nothing: no price, no stock, no identifiers.
_NO_STRUCTURED = StructuredOffer(
    price=None, amount=None, currency=None, availability=StockState.UNKNOWN, availability_raw=None, seller_name=None
)
_NO_PRODUCT = StructuredProduct(
    name=None,
    price=None,
    amount=None,
    currency=None,
    flag=None,
    availability=StockState.UNKNOWN,
    availability_raw=None,
    sku=None,
    mpn=None,
    gtin=None,
    brand=None,
    seller_name=None,
)


class _PriceReading(NamedTuple):
    amount: Decimal | None
    raw: str | None
    currency: str | None
    flag: str | None  # why there is no firm price (FLAG_PRICE_MISSING when nothing says why)
    disagrees: bool  # the visible price is not the structured data's
    structured: bool  # the price is the structured data's (the visible page showed none)


class _StockReading(NamedTuple):
    state: StockState
    raw: str | None
    quantity: int | None
    disagrees: bool  # the visible stock state is not the structured data's


class _Identity(NamedTuple):
    title: str | None
    seller_name: str | None
    vendor_code: str | None
    gtin: str | None
    seller_sku: str | None


def _believed_price(visible: ParsedPrice, structured: StructuredProduct | StructuredOffer) -> tuple[ParsedPrice, bool]:
    """The visible price, and whether the structured data's differs; the structured price only when the visible
    page shows no price and no reason for none."""
    s_flag = structured.flag if isinstance(structured, StructuredProduct) else None
    if visible.amount is None and not visible.flag and (structured.amount is not None or s_flag):
        return ParsedPrice(structured.amount, structured.currency, s_flag, structured.price), False
    amount = visible.amount
    return visible, amount is not None and structured.amount is not None and structured.amount != amount


def _read_price(
    fields: OfferFields, structured: StructuredProduct | StructuredOffer, separator: str | None
) -> _PriceReading:
    visible = _parse_prices(tuple(fields.prices), separator) if fields.prices else _NO_PRICE
    price, disagrees = _believed_price(visible, structured)
    raw = price.raw if price.raw is not None else (fields.prices[0] if fields.prices else None)
    currency = currency_code(fields.currency) or price.currency or structured.currency
    flag = price.flag or (FLAG_PRICE_MISSING if price.amount is None else None)
    # `_believed_price` hands the visible reading back itself unless it took the structured data's.
    return _PriceReading(price.amount, raw, currency, flag, disagrees, price is not visible)


def _price_sources(price: _PriceReading, fields: OfferFields, distributor: Distributor) -> dict[str, str]:
    """Where the offer's price was read: the feed, the price selector (`css:…`, `xpath:…`) or `jsonld`."""
    if price.amount is None:
        return {}
    if price.structured:
        return {"price": "jsonld"}
    if distributor.spider == "feed" and distributor.feed is not None:
        return {"price": f"feed:{distributor.feed.format}"}
    selectors = distributor.selectors
    read = {"price": selectors.price, "seller_price": selectors.seller_price, "card_price": selectors.card_price}
    return {
        name: query if query.startswith(XPATH_PREFIX) else f"css:{query}"
        for name, query in read.items()
        if query is not None and (name == "price" or getattr(fields, name) is not None)
    }


def _side_price(text: str | None, separator: str | None) -> str | None:
    """A price beside the offer's own (crossed out, the seller's, a card's): its amount, or None."""
    return _money(_parse_price(text, separator).amount) if text else None


def _read_stock(fields: OfferFields, structured: StructuredProduct | StructuredOffer) -> _StockReading:
    """The stock state the source states or the page shows, else the structured data's; the quantity from its
    own field, else from the availability text."""
    parsed = _parse_stock(fields.availability) if fields.availability else None
    visible = fields.stock or (parsed.state if parsed is not None else StockState.UNKNOWN)
    quantity = _quantity(fields.quantity)
    if quantity is None and parsed is not None:
        quantity = parsed.quantity
    if quantity is None:
        quantity = structured.quantity  # JSON-LD `inventoryLevel`
    raw = fields.availability or structured.availability_raw
    if visible == StockState.UNKNOWN:
        return _StockReading(structured.availability, raw, quantity, False)
    return _StockReading(visible, raw, quantity, _stock_disagrees(visible, structured.availability))


def _stock_disagrees(visible: StockState, structured: StockState) -> bool:
    """The structured data states another stock class ("in stock" and "3 left" are one class)."""
    return structured != StockState.UNKNOWN and _STOCK_CLASS.get(structured) != _STOCK_CLASS.get(visible)


def _identity(fields: OfferFields, structured: StructuredProduct | StructuredOffer) -> _Identity:
    """What the offer is and who sells it: the page's own fields first, then the schema.org Product's.

    Of the schema.org codes, the manufacturer's (`mpn`) is the vendor code before the shop's own `sku`, which is
    kept as the seller's SKU (matching tries both, the one shaped like the catalog's codes first)."""
    product = structured if isinstance(structured, StructuredProduct) else _NO_PRODUCT
    return _Identity(
        title=fields.name or product.name,
        seller_name=fields.seller or structured.seller_name,
        vendor_code=clean_identifier(fields.vendor_code) or product.mpn or product.sku,
        gtin=clean_identifier(fields.ean) or product.gtin,
        seller_sku=fields.seller_sku or product.sku,
    )


def _disagreement(structured: StructuredProduct | StructuredOffer) -> dict[str, str | None]:
    """What the structured data said, kept on an offer whose visible page says otherwise."""
    return {
        "price": structured.price,
        "currency": structured.currency,
        "availability": structured.availability_raw or structured.availability.value,
    }


def _flags(price: _PriceReading, structured_disagrees: bool) -> list[str]:
    flags = [price.flag] if price.flag else []
    if structured_disagrees:
        flags.append(FLAG_STRUCTURED_MISMATCH)
    return flags


def build_offer(
    fields: OfferFields,
    *,
    distributor: Distributor,
    url: str,
    seller_code: str,
    structured: StructuredProduct | StructuredOffer | None = None,
    http_status: int | None = 200,
    fetched_at: str | None = None,
    decimal_separator: str | None = None,
) -> RawOffer:
    """One RawOffer from what the page shows (`fields`) and its schema.org data (`structured`)."""
    separator = decimal_separator or distributor.decimal_separator
    data = _NO_STRUCTURED if structured is None else structured
    price = _read_price(fields, data, separator)
    stock = _read_stock(fields, data)
    identity = _identity(fields, data)
    disagrees = price.disagrees or stock.disagrees
    return RawOffer(
        distributor=distributor.code,
        url=url,
        seller_code=seller_code,
        seller_name=identity.seller_name,
        title=identity.title,
        price=_money(price.amount),
        price_raw=price.raw,
        old_price=_side_price(fields.old_price, separator),
        old_price_raw=fields.old_price,
        seller_price=_side_price(fields.seller_price, separator),
        card_price=_side_price(fields.card_price, separator),
        currency=price.currency,
        stock=stock.state.value,
        stock_raw=stock.raw,
        quantity=stock.quantity,
        vendor_code=identity.vendor_code,
        gtin=identity.gtin,
        seller_sku=identity.seller_sku,
        markers=fields.markers,
        flags=_flags(price, disagrees),
        structured=_disagreement(data) if disagrees else {},
        http_status=http_status,
        fetched_at=fetched_at or utc_now_iso(),
        price_sources=_price_sources(price, fields, distributor),
    )


def blocked_offer(distributor: Distributor, url: str, seller_code: str, http_status: int, reason: str) -> RawOffer:
    """A known product page we could not see: stock unknown, never out of stock."""
    return RawOffer(
        distributor=distributor.code,
        url=url,
        seller_code=seller_code,
        stock=StockState.UNKNOWN.value,
        stock_raw=reason,
        flags=[FLAG_BLOCKED],
        http_status=http_status,
        fetched_at=utc_now_iso(),
    )


def not_found_offer(distributor: Distributor, url: str, seller_code: str, http_status: int) -> RawOffer:
    """A known product page that is gone (404/410): delisted."""
    return RawOffer(
        distributor=distributor.code,
        url=url,
        seller_code=seller_code,
        stock=StockState.OUT_OF_STOCK.value,
        stock_raw=f"http_{http_status}",
        flags=[FLAG_NOT_FOUND],
        http_status=http_status,
        fetched_at=utc_now_iso(),
    )
