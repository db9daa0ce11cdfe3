"""Offers out of a marketplace's JSON, and its sellers' legal details out of their JSON or page.

A document is mapped with the config's JMESPaths (`json.fields`, relative to each element `json.offers` picks),
numbers read as Decimal, never float; `price_unit: kopeck` divides by 100 exactly (1209000 → 12090.00) and a
fraction of a kopeck is no price. What a field cannot be read as (a list where a price should be, a type error in
a JMESPath function) is read as absent, so a changed shape gives offers without a price, never a wrong one.
The offers go through `crawler.extract.build_offer`, as every page's do (price missing, stock, identifiers).
"""

from __future__ import annotations

import functools
import json
from decimal import Decimal, InvalidOperation
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from lxml import etree

from crawler.config import Distributor, JsonSource, LegalFields
from crawler.extract import OfferFields, build_offer, compile_selector, first_text
from crawler.items import RawOffer
from crawler.parsing.legal import LegalDetails, legal_details
from crawler.parsing.prices import money
from crawler.parsing.stock import StockState, state_for_quantity
from crawler.parsing.text import normalize_space

# The prices an offer carries, and the RawOffer fields they go to beside `price`.
_PRICE_FIELDS = ("price", "seller_price", "card_price")


def load_document(body: bytes | str) -> Any | None:
    """The JSON document, fractional numbers as Decimal; None when the body is no JSON."""
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):  # json.JSONDecodeError is a ValueError
        return None


def amount(value: Any, unit: str) -> Decimal | None:
    """A price as the JSON gives it (a number or a numeric string), in roubles to the kopeck; None if it is none."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str | float):
        return None
    try:
        # A float only comes out of a JMESPath function (avg); its shortest repr is the number meant.
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if unit == "kopeck":
        if number != number.to_integral_value():
            return None  # a fraction of a kopeck: a misread field, not a price
        number = number.scaleb(-2)
    return money(number)


def _text(value: Any) -> str | None:
    """A JSON scalar as text (ids and barcodes are often numbers); None for null, booleans, lists, objects."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return normalize_space(value) or None
    if isinstance(value, int | Decimal):
        return str(value)
    return None


def _count(value: Any) -> int | None:
    """A quantity on hand: a whole number, 0 or more."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int | Decimal) and value >= 0 and value == int(value):
        return int(value)
    return None


@functools.lru_cache(maxsize=256)
def _compiled(query: str) -> ParsedResult:
    return jmespath.compile(query)


@functools.lru_cache(maxsize=64)
def _selector(query: str) -> etree.XPath:
    return compile_selector(query, "legal_info.fields")


def _search(query: str, data: Any) -> Any:
    """The JMESPath's result; None where the document's types do not fit it (a changed shape)."""
    try:
        return _compiled(query).search(data)
    except JMESPathError:
        return None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


class JsonOfferReader:
    """One distributor's `json` mapping: documents → offers."""

    def __init__(self, source: JsonSource, distributor: Distributor) -> None:
        self.source = source
        self.distributor = distributor
        self.queries = {name: query for name, query in source.fields.model_dump().items() if query}

    def offer_nodes(self, document: Any) -> list[dict[str, Any]] | None:
        """The document's offers: [] when it lists none (the product is gone), None when it is not of the shape
        the config describes (no JSON, no list where `offers` points, an element that is no object)."""
        if self.source.offers is None:
            return [document] if isinstance(document, dict) else None
        found = _search(self.source.offers, document)
        if not isinstance(found, list) or not all(isinstance(node, dict) for node in found):
            return None
        return found

    def read(self, document: Any, *, url: str, http_status: int | None) -> list[RawOffer] | None:
        """Every offer of the document under the product page `url`; None when it is not of the configured shape."""
        nodes = self.offer_nodes(document)
        return None if nodes is None else [self.offer(node, url=url, http_status=http_status) for node in nodes]

    def offer(self, node: dict[str, Any], *, url: str, http_status: int | None) -> RawOffer:
        """One offer out of one element. `price` is the shown price; without a `price` path the seller's own
        price is what is shown. A crossed-out price not above the price it crosses out is no old price. With a
        quantity and no stock text, the count decides as a page's «В наличии: 5 шт.» does (`state_for_quantity`), so
        the JSON and the rendered page give the same state."""
        raw = {name: _search(query, node) for name, query in self.queries.items()}
        unit = self.source.price_unit
        prices = {name: amount(raw.get(name), unit) for name in (*_PRICE_FIELDS, "old_price")}
        shown_field = "price" if "price" in self.queries else "seller_price"
        shown, seller = prices[shown_field], prices["seller_price"]
        old = _old_price(prices["old_price"], seller, shown)
        fields = self._fields(raw, shown, old)
        offer = build_offer(
            fields,
            distributor=self.distributor,
            url=url,
            seller_code=fields.seller_id or fields.seller or self.distributor.code,
            http_status=http_status,
            decimal_separator=".",
        )
        offer.price_raw = _text(raw.get(shown_field))
        offer.old_price_raw = _text(raw.get("old_price")) if old is not None else None
        offer.seller_price = _money(seller)
        offer.card_price = _money(prices["card_price"])
        offer.price_sources = self._price_sources(prices, shown_field)
        return offer

    def _fields(self, raw: dict[str, Any], shown: Decimal | None, old: Decimal | None) -> OfferFields:
        """The element's searched values as the fields a page's selectors would have found."""
        quantity, stock_text = _count(raw.get("quantity")), _text(raw.get("stock"))
        return OfferFields(
            name=_text(raw.get("name")),
            prices=[] if shown is None else [f"{shown:.2f}"],
            old_price=_money(old),
            currency=_text(raw.get("currency")) or self.distributor.currency,
            availability=stock_text,
            stock=_stock_state(stock_text, quantity),
            quantity=None if quantity is None else str(quantity),
            vendor_code=_text(raw.get("vendor_code")),
            ean=_text(raw.get("ean")),
            seller=_text(raw.get("seller")),
            seller_id=_text(raw.get("seller_id")),
        )

    def _price_sources(self, prices: dict[str, Decimal | None], shown_field: str) -> dict[str, str]:
        """Where each found price came from (`json:<path>`), for the offer's record."""
        sources = {"price": shown_field, "seller_price": "seller_price", "card_price": "card_price"}
        return {name: f"json:{self.queries[field]}" for name, field in sources.items() if prices[field] is not None}


def _old_price(old: Decimal | None, *crossed_out: Decimal | None) -> Decimal | None:
    """The crossed-out price, unless it is not above the prices it crosses out (then it is no old price)."""
    crossed = [p for p in crossed_out if p is not None]
    if old is not None and crossed and old <= max(crossed):
        return None
    return old


def _stock_state(stock_text: str | None, quantity: int | None) -> StockState | None:
    """With a quantity and no stock text, the state the count gives; otherwise the stock text decides (None)."""
    if stock_text is None and quantity is not None:
        return state_for_quantity(quantity)
    return None


def legal_from_json(document: Any, fields: LegalFields, source: str) -> LegalDetails | str:
    """A seller's legal details out of its JSON (`fields`: JMESPaths), or why there are none."""
    if not isinstance(document, dict | list):
        return "not a JSON document"
    values = {name: _text(_search(query, document)) for name, query in fields.model_dump().items() if query}
    return legal_details(values, source)


def legal_from_page(root: Any, fields: LegalFields, source: str) -> LegalDetails | str:
    """A seller's legal details out of its page (`root`: the lxml tree; `fields`: selectors), or why none."""
    values = {name: first_text(_selector(query), root) for name, query in fields.model_dump().items() if query}
    return legal_details(values, source)
