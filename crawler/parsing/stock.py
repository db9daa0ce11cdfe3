"""Availability out of page text and schema.org values into the five stock states.

Decisions, made once for every spider:

- Anything not recognised is `unknown`, never `out_of_stock`: a broken selector must not look like a stock-out.
- An explicit absence wins over everything else in the same text: "Нет в наличии, доступен под заказ" is
  `out_of_stock`. "Ожидается поступление", "Ожидается 15.12", "В пути" mean the shelf is empty now:
  `out_of_stock`. "Под заказ", "Предзаказ", "Pre-order", "Available to order" (orderable, not on hand, schema.org
  PreOrder/BackOrder) are `preorder`.
- A count on hand decides by itself: 0 → `out_of_stock`, 1..LOW_STOCK_MAX → `low_stock`, more → `in_stock`, so
  "Осталось 3 шт." is low stock with quantity 3 and "Осталось 12 шт." is in stock with quantity 12. Counts in
  several warehouses ("Москва: 2 шт., СПб: 5 шт.") are added up. Bounds (">10 шт.", "более 10") give the state
  but no quantity, because the real count is not known.
- "Мало", "Заканчивается", "Only a few left" are `low_stock` without a quantity.
- Delivery terms ("Доставка 3-5 дней") say nothing about stock: `unknown`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.items import StockState
from crawler.parsing.text import normalize_space

LOW_STOCK_MAX = 5  # a count on hand at or below this is low stock

_OUT = re.compile(
    r"нет\s+в\s+наличии|не\s+в\s+наличии|нет\s+на\s+склад|нет\s+в\s+продаж|отсутству|законч(?:ил|ен)|распродан"
    r"|снят\w*\s+с\s+(?:продаж|производств)|выведен\w*\s+из\s+ассортимент|ожида(?:ет|ем)|в\s+пути|нет\s+остатк"
    r"|^нет\b|:\s*нет\b|sold\s*out|out\s+of\s+stock|not\s+(?:in\s+stock|available)|unavailable|no\s+stock"
    r"|discontinued|temporarily\s+out",
)
_PREORDER = re.compile(
    r"под\s+заказ|на\s+заказ|предзаказ|предварительн\w+\s+заказ|скоро\s+в\s+продаж"
    r"|pre-?\s?order|back-?\s?order|available\s+(?:to|for)\s+order|made\s+to\s+order|coming\s+soon|on\s+order",
)
_LOW = re.compile(
    r"\bмало\b|заканчива|осталось\s+мало|последн\w*\s+(?:шт|экземпляр|товар)|ограничен\w*\s+(?:количеств|наличи)"
    r"|low\s+(?:in\s+)?stock|limited\s+(?:stock|availability|quantity)|(?:only\s+)?a\s+few\s+left|few\s+left",
)
_IN = re.compile(
    r"в\s+наличии|на\s+складе|\bесть\b|\bмного\b|\bдостаточно\b|\bв\s+продаже\b|\bдоступ(?:ен|но|на)\b"
    r"|in\s+stock|\bavailable\b|\bavailability:\s*yes|^да$|^yes$|^\+$",
)
# A count with a unit, or a number after a word that announces the count on hand.
_UNIT_COUNT = re.compile(r"(?<![\d.,])(\d{1,7})\s*(?:шт\b|шт\.|штук|ед\.|ед\b|pcs\b|pc\b|units?\b|items?\b|pieces\b)")
_WORD_COUNT = re.compile(
    r"(?:осталось|остаток|наличие|в\s+наличии|на\s+складе|склад|количество|кол-во|only|stock|qty|quantity)"
    r"\s*:?\s*(\d{1,7})(?=\s*(?:$|[.,;:)!]|шт|ед|pcs|pc\b|units?|items?|left))"
)
_ONLY_LEFT = re.compile(r"(?<![\d.,])(\d{1,7})\s+(?:left|remaining|in\s+stock)")
_BARE_COUNT = re.compile(r"(\d{1,7})")
_LOWER_BOUND = re.compile(r"(?:>|≥|более|больше|свыше|over|more\s+than)\s*(\d{1,7})|(\d{1,7})\s*\+")
_UPPER_BOUND = re.compile(r"(?:<|≤|менее|меньше|less\s+than|under)\s*(\d{1,7})")

_SCHEMA = {
    "instock": StockState.IN_STOCK,
    "instoreonly": StockState.IN_STOCK,
    "onlineonly": StockState.IN_STOCK,
    "available": StockState.IN_STOCK,
    "limitedavailability": StockState.LOW_STOCK,
    "outofstock": StockState.OUT_OF_STOCK,
    "oos": StockState.OUT_OF_STOCK,
    "soldout": StockState.OUT_OF_STOCK,
    "discontinued": StockState.OUT_OF_STOCK,
    "preorder": StockState.PREORDER,
    "presale": StockState.PREORDER,
    "backorder": StockState.PREORDER,
    "madetoorder": StockState.PREORDER,
    "availablefororder": StockState.PREORDER,
}
_SCHEMA_VALUE = re.compile(r"(?:https?://)?(?:www\.)?(?:schema\.org/|schema:)?([A-Za-z _-]{2,40})/?")


@dataclass(frozen=True)
class ParsedStock:
    """One availability as read from page text; `quantity` is the count on hand when the page gives one."""

    state: StockState
    quantity: int | None
    raw: str | None


def from_schema_availability(value: str | None) -> StockState:
    """Map a schema.org ItemAvailability ("https://schema.org/InStock", "InStock") or an Open Graph
    `product:availability` ("instock", "oos", "available for order") to a stock state; anything else is unknown."""
    if not value:
        return StockState.UNKNOWN
    match = _SCHEMA_VALUE.fullmatch(value.strip())
    if match is None:
        return StockState.UNKNOWN
    key = re.sub(r"[ _-]", "", match.group(1)).lower()
    return _SCHEMA.get(key, StockState.UNKNOWN)


def state_for_quantity(quantity: int) -> StockState:
    """The state a count on hand means by itself."""
    if quantity <= 0:
        return StockState.OUT_OF_STOCK
    return StockState.LOW_STOCK if quantity <= LOW_STOCK_MAX else StockState.IN_STOCK


def _quantity(text: str) -> int | None:
    counts = [int(m.group(1)) for m in _UNIT_COUNT.finditer(text)]
    if counts:
        return sum(counts)
    for pattern in (_WORD_COUNT, _ONLY_LEFT):
        if match := pattern.search(text):
            return int(match.group(1))
    if match := _BARE_COUNT.fullmatch(text):
        return int(match.group(1))
    return None


def parse_stock(text: str | None) -> ParsedStock:
    """Parse one availability text; see the module docstring for the decisions. Unrecognised → unknown."""
    if text is None:
        return ParsedStock(StockState.UNKNOWN, None, None)
    clean = normalize_space(text).lower().replace("ё", "е")
    if not clean:
        return ParsedStock(StockState.UNKNOWN, None, text)
    if (schema := from_schema_availability(clean)) is not StockState.UNKNOWN:
        return ParsedStock(schema, None, text)
    if _OUT.search(clean):
        return ParsedStock(StockState.OUT_OF_STOCK, 0 if _quantity(clean) == 0 else None, text)
    if _PREORDER.search(clean):
        return ParsedStock(StockState.PREORDER, None, text)
    if upper := _UPPER_BOUND.search(clean):
        # "менее 5 шт." is low stock; "менее 100 шт." only says some stock is there.
        low = int(upper.group(1)) <= LOW_STOCK_MAX + 1
        return ParsedStock(StockState.LOW_STOCK if low else StockState.IN_STOCK, None, text)
    if lower := _LOWER_BOUND.search(clean):
        return ParsedStock(state_for_quantity(int(lower.group(1) or lower.group(2)) + 1), None, text)
    quantity = _quantity(clean)
    if quantity is not None:
        return ParsedStock(state_for_quantity(quantity), quantity, text)
    if _LOW.search(clean):
        return ParsedStock(StockState.LOW_STOCK, None, text)
    if _IN.search(clean):
        return ParsedStock(StockState.IN_STOCK, None, text)
    return ParsedStock(StockState.UNKNOWN, None, text)
