"""The stock phrase table: every whole phrase shops and marketplaces print about availability, and its role.

Data only; the grammar that reads it is crawler/parsing/stock.py. Phrases are written lower case, `ё` as `е`
and a hyphen inside a word as a space ("pre-order" → "pre order", "кол-во" → "кол во"), as the grammar
normalises page text. A phrase matches whole words at the start of a segment (the grammar splits text at
punctuation); the longest phrase wins, so a longer entry can shadow a shorter one ("ожидается доставка"
says nothing, "ожидается" alone is an empty shelf).

Roles:

- PHRASE — a statement of its state; a count right after it refines it ("Есть в наличии 5 шт." → low, 5).
- WHOLE — a statement only when it is the whole segment or a heading's whole answer ("Нет", "Наличие: нет",
  "Много"): "нет ограничений", "есть отзывы", "доступен в трёх цветах" say nothing about stock.
- LABEL — a heading whose value answers it ("Наличие: 25 шт.", "В наличии: нет", "Осталось 3 шт."); when the
  value says nothing the heading's own state stands ("В наличии: нет ограничений" → in stock), if it has one.
- CHANNEL — a way to get the goods (pickup, delivery, the shop's stores): only a value that says the goods
  are there counts ("Доставка: есть" → in stock). A closed channel ("Самовывоз: нет") and a delivery term
  ("Доставка завтра", "Самовывоз сегодня") say nothing, because shops print them whatever the shelf holds.
- NEUTRAL — recognised text about something else (reviews, buttons, delivery dates, pack sizes); it says
  nothing, and shields what follows it from being read as a count ("Продано 15 шт.", "Отзывы: отсутствуют").

FILLERS are words before a phrase that do not change it ("Товар временно отсутствует" = "отсутствует").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from crawler.items import StockState


class Role(Enum):
    """How a phrase takes part in a reading; see the module docstring."""

    PHRASE = "phrase"
    WHOLE = "whole"
    LABEL = "label"
    CHANNEL = "channel"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Phrase:
    """One table entry: its role and the state it states (None for headings without one and neutral text)."""

    role: Role
    state: StockState | None


IN, LOW, OUT, PRE = StockState.IN_STOCK, StockState.LOW_STOCK, StockState.OUT_OF_STOCK, StockState.PREORDER
PHRASE, WHOLE, LABEL, CHANNEL, NEUTRAL = Role.PHRASE, Role.WHOLE, Role.LABEL, Role.CHANNEL, Role.NEUTRAL

# (state, role, phrases): one group per line of meaning.
_GROUPS: tuple[tuple[StockState | None, Role, tuple[str, ...]], ...] = (
    # --- on hand
    (IN, LABEL, ("в наличии", "на складе", "in stock")),
    (
        IN,
        PHRASE,
        (
            "есть в наличии",
            "имеется в наличии",
            "есть на складе",
            "есть в магазинах",
            "есть в магазине",
            "есть в продаже",
            "доступен для покупки",
            "доступен к покупке",
            "доступно для покупки",
            "доступно к покупке",
            "доступен в магазинах",
            "готов к отгрузке",
            "готов к отправке",
            "available now",
            "available in store",
            "available online",
            "ready to ship",
        ),
    ),
    (
        IN,
        WHOLE,
        (
            "есть",
            "имеется",
            "много",
            "достаточно",
            "в продаже",
            "доступен",
            "доступна",
            "доступно",
            "да",
            "yes",
            "+",
            "available",
        ),
    ),
    # --- little on hand
    (
        LOW,
        PHRASE,
        (
            "заканчивается",
            "скоро закончится",
            "последний экземпляр",
            "последние экземпляры",
            "последние штуки",
            "последняя штука",
            "осталась последняя штука",
            "остался последний",
            "ограниченное количество",
            "ограниченное наличие",
            "low stock",
            "low in stock",
            "limited stock",
            "limited availability",
            "limited quantity",
            "only a few left",
            "a few left",
            "few left",
            "almost gone",
            "last one",
            "last item",
        ),
    ),
    (LOW, WHOLE, ("мало", "последний")),
    # --- the shelf is empty (a delivery that is expected means it is empty now)
    (
        OUT,
        PHRASE,
        (
            "нет в наличии",
            "не в наличии",
            "нет на складе",
            "нет на складах",
            "нет в продаже",
            "нет в магазинах",
            "нет остатков",
            "остатков нет",
            "нет товара",
            "товара нет",
            "отсутствует",
            "отсутствуют",
            "закончился",
            "закончилась",
            "закончилось",
            "закончились",
            "закончен",
            "распродан",
            "распродана",
            "распродано",
            "распроданы",
            "снят с продажи",
            "снята с продажи",
            "снято с продажи",
            "сняты с продажи",
            "снят с производства",
            "снято с производства",
            "выведен из ассортимента",
            "выведено из ассортимента",
            "продажи приостановлены",
            "недоступен",
            "недоступна",
            "недоступно",
            "ожидается",
            "ожидается поступление",
            "ожидается поставка",
            "поступление ожидается",
            "ожидаем",
            "ожидаем поступление",
            "ожидаем поставку",
            "в пути",
            "out of stock",
            "sold out",
            "soldout",
            "unavailable",
            "not available",
            "not in stock",
            "no stock",
            "no longer available",
            "discontinued",
        ),
    ),
    (OUT, WHOLE, ("нет", "no")),
    # --- orderable, not on hand
    (
        PRE,
        PHRASE,
        (
            "под заказ",
            "на заказ",
            "только под заказ",
            "поставка под заказ",
            "изготовление под заказ",
            "доступен под заказ",
            "доступно под заказ",
            "доступен к заказу",
            "доступно к заказу",
            "доступен для заказа",
            "доступно для заказа",
            "предзаказ",
            "оформить предзаказ",
            "по предзаказу",
            "доступен по предзаказу",
            "доступно по предзаказу",
            "доступен для предзаказа",
            "предварительный заказ",
            "скоро в продаже",
            "pre order",
            "preorder",
            "back order",
            "backorder",
            "on backorder",
            "available to order",
            "available for order",
            "available for pre order",
            "available on backorder",
            "made to order",
            "coming soon",
            "on order",
        ),
    ),
    # --- headings whose value answers them
    (
        None,
        LABEL,
        (
            "наличие",
            "наличие на складе",
            "статус",
            "статус наличия",
            "доступность",
            "остаток",
            "остатки",
            "остаток на складе",
            "осталось",
            "осталась",
            "остался",
            "остались",
            "склад",
            "количество",
            "кол во",
            "только",
            "всего",
            "availability",
            "stock",
            "stock status",
            "status",
            "qty",
            "quantity",
            "only",
        ),
    ),
    # --- ways to get the goods
    (
        None,
        CHANNEL,
        (
            "самовывоз",
            "доставка",
            "курьерская доставка",
            "доставка курьером",
            "курьером",
            "пункт выдачи",
            "пункты выдачи",
            "пвз",
            "постамат",
            "в магазинах",
            "в магазине",
            "забрать в магазине",
            "pickup",
            "pick up",
            "delivery",
            "shipping",
            "in store",
            "in stores",
        ),
    ),
    # --- about something else
    (
        None,
        NEUTRAL,
        (
            "ожидается доставка",
            "ожидается отгрузка",
            "сообщить о поступлении",
            "узнать о поступлении",
            "уведомить о поступлении",
            "уточняйте наличие",
            "отзывы",
            "отзыв",
            "отзывов",
            "вопросы",
            "гарантия",
            "продано",
            "продажи",
            "в упаковке",
            "упаковка",
            "в комплекте",
            "заказ",
            "минимальный заказ",
            "кратность",
            "купить",
            "в корзину",
            "reviews",
            "warranty",
            "sold",
            "min order",
            "minimum order",
            "add to cart",
            "buy now",
        ),
    ),
)

FILLERS: tuple[str, ...] = (
    "товар",
    "товара",
    "товары",
    "этот",
    "данный",
    "сейчас",
    "пока",
    "временно",
    "уже",
    "this",
    "item",
    "product",
    "is",
    "currently",
    "temporarily",
)


def _table() -> dict[str, Phrase]:
    """The groups as one lookup; a phrase listed twice is a mistake in this module."""
    table: dict[str, Phrase] = {}
    for state, role, phrases in _GROUPS:
        for phrase in phrases:
            if phrase in table:
                raise ValueError(f"stock phrase {phrase!r} is listed twice")
            table[phrase] = Phrase(role, state)
    return table


TABLE: dict[str, Phrase] = _table()
