"""Availability out of page text and schema.org values into the five stock states.

Page text is read by a phrase grammar, not by searching for words: the phrases are data in one table
(crawler/parsing/stock_phrases.py, where their roles are explained). The text is split into segments at
punctuation (",", ";", ".", "!", "?", "|", brackets, bullets, a spaced dash or slash); a segment says something
only when it *starts* with a whole phrase from the table, a count, or a heading and its value. Whatever follows
the leading phrase is a qualifier and never overturns it, so "В наличии. Ожидаемая дата доставки: завтра",
"В наличии, отзывы отсутствуют" and "В наличии: нет ограничений" are in stock, and a stock word inside
unrelated text ("Осталось 3 дня до конца акции", "Нет отзывов") says nothing. The segments' readings are then
combined.

Decisions, made once for every spider:

- Anything not recognised is `unknown`, never `out_of_stock`: a broken selector must not look like a stock-out.
- Short words ("Нет", "Есть", "Да", "Много", "Мало", "Доступен") are statements only as a whole segment or as a
  heading's whole answer ("Наличие: нет"); "Нет отзывов", "Много отзывов", "Доступен в трёх цветах" say nothing.
- Contradictory statements give `unknown`: on hand (in stock, low stock) beside not on hand (out of stock,
  preorder), e.g. "В наличии. Нет в наличии" or "Предзаказ, в наличии". An explicit absence beside an order
  option is consistent and reads as the absence: "Нет в наличии, доступен под заказ" is `out_of_stock`.
- "Ожидается поступление", "Ожидается 15.12", "В пути" mean the shelf is empty now: `out_of_stock`. "Под заказ",
  "Предзаказ", "Pre-order", "Available to order" (orderable, not on hand, schema.org PreOrder/BackOrder) are
  `preorder`.
- A count on hand decides by itself: 0 → `out_of_stock`, 1..LOW_STOCK_MAX → `low_stock`, more → `in_stock`, so
  "Осталось 3 шт." is low stock with quantity 3 and "Осталось 12 шт." is in stock with quantity 12. Counts in
  several warehouses ("Москва: 2 шт., СПб: 5 шт.") are added up; a count under a heading the table does not know
  needs its unit ("Москва: 2 шт." counts, "Отзывы: 5" does not). Bounds (">10 шт.", "более 10", "менее 5")
  give the state but no quantity, because the real count is not known. "В наличии в 12 магазинах" counts shops,
  not goods: in stock, no quantity.
- "Мало", "Заканчивается", "Only a few left" are `low_stock` without a quantity; beside "В наличии" low stock
  is the finer reading.
- Delivery and pickup are channels, not the shelf. A channel that says the goods are there ("Доставка: есть",
  "Самовывоз: в наличии") is in stock: a channel manager asks whether the seller can sell it, and it can. A
  closed channel ("Самовывоз: нет") is the seller's logistics, not a stock-out, and a delivery term ("Доставка
  завтра", "Самовывоз сегодня", "Доставка 3-5 дней") is printed by shops whatever the shelf holds; both say
  nothing. So "Самовывоз: нет, доставка: есть" is `in_stock`, and "Самовывоз: нет, доставка: нет" is `unknown`.
- A text that is a schema.org ItemAvailability or Open Graph value as a whole reads as that value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.items import StockState
from crawler.parsing.stock_phrases import FILLERS, TABLE, Phrase, Role
from crawler.parsing.text import normalize_space

LOW_STOCK_MAX = 5  # a count on hand at or below this is low stock
_MAX_NESTING = 3  # headings inside headings ("Наличие: склад 1: 5 шт.") deeper than this are not read

_ON_HAND = frozenset({StockState.IN_STOCK, StockState.LOW_STOCK})
_WORD_HYPHEN = re.compile(r"(?<=[^\W\d_])[-‑](?=[^\W\d_])")
_SEGMENT_BREAK = re.compile(r"[,;!?|()\[\]{}•·●○◦▪■□✓✔✗✘☑★*]|\.(?!\d)|\s[-–—/]\s")
_FILLER = re.compile(rf"^(?:(?:{'|'.join(map(re.escape, FILLERS))})\s+)+")
# Longest first, so a longer phrase shadows a shorter one it begins with.
_HEAD = re.compile(rf"(?:{'|'.join(re.escape(p) for p in sorted(TABLE, key=len, reverse=True))})(?!\w)")
_HEADING = re.compile(r"([^:]{1,40}):\s*(.+)")
_UPPER_OPS = frozenset({"<", "≤", "менее", "меньше", "less than", "under"})
_COUNT = re.compile(
    r"(?P<op>>|≥|<|≤|более|больше|свыше|over|more than|менее|меньше|less than|under)?\s*"
    r"(?P<n>\d{1,3}(?: \d{3})+|\d{1,7})(?!\d)(?P<plus>\s?\+)?\s*"
    r"(?P<unit>(?:шт|штук[аи]?|ед|единиц[аы]?|pcs|pc|units?|items?|pieces?|left|remaining|in stock)(?!\w))?"
)

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


@dataclass(frozen=True)
class _Reading:
    """What one segment says: a state, and the count on hand when it states one."""

    state: StockState
    count: int | None = None


def _normalize(text: str) -> str:
    """Text as the phrase table is written: one space, lower case, `ё` as `е`, no hyphens inside words."""
    return _WORD_HYPHEN.sub(" ", normalize_space(text).lower().replace("ё", "е"))


def _read_count(text: str, bare: bool) -> _Reading | None:
    """A count or a bound at the start of `text`; without a unit only when the number ends the text and `bare`."""
    match = _COUNT.match(text)
    if match is None or not (match["unit"] or (bare and not text[match.end() :].strip())):
        return None
    number, op = int(match["n"].replace(" ", "")), match["op"]
    if op in _UPPER_OPS:
        # "менее 5 шт." is low stock; "менее 100 шт." only says some stock is there.
        return _Reading(StockState.LOW_STOCK if number <= LOW_STOCK_MAX + 1 else StockState.IN_STOCK)
    if op or match["plus"]:
        return _Reading(state_for_quantity(number if op == "≥" else number + 1))
    return _Reading(state_for_quantity(number), number)


def _refined(state: StockState, after: _Reading | None) -> _Reading:
    """A statement and the count right after it: the count decides on-hand states, and only 0 goes with
    an absence; an order option has no count on hand."""
    if after is None or state is StockState.PREORDER:
        return _Reading(state)
    if state in _ON_HAND:
        return after
    return _Reading(state, 0 if after.count == 0 else None)


def _read_after(entry: Phrase, rest: str, depth: int) -> _Reading | None:
    """What a segment that starts with `entry` says, `rest` being the text after the phrase."""
    value = rest.removeprefix(":").strip()
    if entry.role is Role.NEUTRAL or (entry.role is Role.WHOLE and rest):
        return None
    if entry.role in (Role.LABEL, Role.CHANNEL):
        answer = _read_segment(value, depth + 1) if value else None
        if entry.role is Role.CHANNEL:
            return answer if answer is not None and answer.state in _ON_HAND else None
        return answer or (_Reading(entry.state) if entry.state else None)
    return _refined(entry.state, _read_count(value, bare=True)) if entry.state else None


def _read_segment(segment: str, depth: int = 0) -> _Reading | None:
    """One segment, or a heading's value: a count, a phrase from the table, or a count under a heading."""
    body = _FILLER.sub("", segment.strip(" -–—:"))
    if not body or depth > _MAX_NESTING:
        return None
    if (count := _read_count(body, bare=True)) is not None:
        return count
    if head := _HEAD.match(body):
        return _read_after(TABLE[head.group()], body[head.end() :].strip(), depth)
    # A heading the table does not know (a city, a warehouse): only a count with its unit counts.
    heading = _HEADING.fullmatch(body)
    return _read_count(heading.group(2), bare=False) if heading else None


def _verdict(states: set[StockState], total: int | None) -> StockState:
    """One state out of the segments' states; see the module docstring for contradictions."""
    on_hand = states & _ON_HAND
    if on_hand and states - _ON_HAND:
        return StockState.UNKNOWN
    if StockState.OUT_OF_STOCK in states:
        return StockState.OUT_OF_STOCK
    if StockState.PREORDER in states:
        return StockState.PREORDER
    if total is not None:
        return state_for_quantity(total)
    if on_hand:
        return StockState.LOW_STOCK if StockState.LOW_STOCK in on_hand else StockState.IN_STOCK
    return StockState.UNKNOWN


def _combine(readings: list[_Reading]) -> tuple[StockState, int | None]:
    """The state and quantity of every segment's reading together; counts add up before they decide."""
    counts = [r.count for r in readings if r.count is not None]
    total = sum(counts) if counts else None
    states = {r.state for r in readings if r.count is None}
    if total is not None:
        states.add(state_for_quantity(total))
    state = _verdict(states, total)
    keeps_count = state in _ON_HAND or (state is StockState.OUT_OF_STOCK and total == 0)
    return state, total if keeps_count else None


def parse_stock(text: str | None) -> ParsedStock:
    """Parse one availability text; see the module docstring for the decisions. Unrecognised → unknown."""
    if text is None:
        return ParsedStock(StockState.UNKNOWN, None, None)
    clean = _normalize(text)
    if not clean:
        return ParsedStock(StockState.UNKNOWN, None, text)
    if (schema := from_schema_availability(clean)) is not StockState.UNKNOWN:
        return ParsedStock(schema, None, text)
    readings = [r for segment in _SEGMENT_BREAK.split(clean) if (r := _read_segment(segment)) is not None]
    state, quantity = _combine(readings)
    return ParsedStock(state, quantity, text)
