"""The stock phrase grammar on availability texts as Russian shops and marketplaces print them.

Both ways: whole phrases that must read as a state, and texts that merely contain a stock word inside
unrelated text, which must not (issue 14, case 1: trailing text never overturns a leading phrase).
"""

from __future__ import annotations

import pytest

from crawler.items import StockState
from crawler.parsing.stock import parse_stock
from crawler.parsing.stock_phrases import TABLE, Role

IN, LOW, OUT, PRE, UNKNOWN = (
    StockState.IN_STOCK,
    StockState.LOW_STOCK,
    StockState.OUT_OF_STOCK,
    StockState.PREORDER,
    StockState.UNKNOWN,
)

Row = tuple[str, StockState, int | None]

IN_STOCK: list[Row] = [
    ("В наличии", IN, None),
    ("Есть в наличии", IN, None),
    ("Имеется в наличии", IN, None),
    ("Товар в наличии", IN, None),
    ("Этот товар в наличии", IN, None),
    ("В наличии на складе", IN, None),
    ("В наличии на складе в Москве", IN, None),
    ("В наличии у поставщика", IN, None),
    ("Есть на складе", IN, None),
    ("Есть в магазинах", IN, None),
    ("На складе", IN, None),
    ("Много", IN, None),
    ("Достаточно", IN, None),
    ("Есть", IN, None),
    ("Да", IN, None),
    ("+", IN, None),
    ("В продаже", IN, None),
    ("Уже в продаже", IN, None),
    ("Доступен", IN, None),
    ("Доступен для покупки", IN, None),
    ("Готов к отгрузке", IN, None),
    ("Наличие: есть", IN, None),
    ("Наличие: да", IN, None),
    ("Наличие: много", IN, None),
    ("Наличие: в наличии", IN, None),
    ("Статус: в наличии", IN, None),
    ("Статус наличия: есть", IN, None),
    ("В наличии: много", IN, None),
    ("В наличии: да", IN, None),
    ("Наличие есть", IN, None),
    ("На складе: есть", IN, None),
    ("В наличии в 12 магазинах", IN, None),
    ("В наличии в 1 магазине", IN, None),
    ("В наличии (Москва)", IN, None),
    ("✓ В наличии", IN, None),
    ("✔ Есть в наличии!", IN, None),
    ("• В наличии", IN, None),
    ("In stock", IN, None),
    ("In Stock.", IN, None),
    ("Item is in stock", IN, None),
    ("Availability: In stock", IN, None),
    ("Stock status: in stock", IN, None),
    ("Available now", IN, None),
    ("Ready to ship", IN, None),
    ("Ships today, in stock", IN, None),
]

ON_HAND_DESPITE_TRAILING_TEXT: list[Row] = [
    ("В наличии. Ожидаемая дата доставки: завтра", IN, None),
    ("В наличии, отзывы отсутствуют", IN, None),
    ("В наличии: нет ограничений", IN, None),
    ("В наличии нет ограничений по количеству", IN, None),
    ("В наличии. Ожидается доставка завтра", IN, None),
    ("В наличии. Доставка завтра", IN, None),
    ("В наличии — самовывоз сегодня", IN, None),
    ("В наличии, доставка 1-2 дня", IN, None),
    ("Есть в наличии, отгрузка сегодня", IN, None),
    ("В наличии, гарантия 2 года", IN, None),
    ("Есть в наличии. Отзывов пока нет", IN, None),
    ("В наличии. Нет отзывов", IN, None),
    ("В наличии | Скидки отсутствуют", IN, None),
    ("В наличии. Кредит недоступен", IN, None),
    ("В наличии, доставка: нет", IN, None),
    ("В наличии, самовывоз невозможен", IN, None),
    ("В наличии. Продано 1 500 шт.", IN, None),
    ("В наличии. Возврат не предусмотрен", IN, None),
    ("Много. Отзывы: 0", IN, None),
    ("In stock. No reviews yet", IN, None),
    ("In stock, delivery: not available", IN, None),
    ("In stock — pickup unavailable", IN, None),
]

CHANNELS: list[Row] = [
    ("Самовывоз: нет, доставка: есть", IN, None),
    ("Доставка: есть", IN, None),
    ("Доставка: да", IN, None),
    ("Самовывоз: есть", IN, None),
    ("Самовывоз: в наличии", IN, None),
    ("В магазинах: есть", IN, None),
    ("Доставка курьером: есть; самовывоз: нет", IN, None),
    ("Pickup: available", IN, None),
    ("Самовывоз: нет, доставка: нет", UNKNOWN, None),
    ("Самовывоз: нет", UNKNOWN, None),
    ("Доставка: нет", UNKNOWN, None),
    ("Доставка завтра", UNKNOWN, None),
    ("Самовывоз сегодня", UNKNOWN, None),
    ("Самовывоз сегодня из 5 магазинов", UNKNOWN, None),
    ("Доставка 3-5 дней", UNKNOWN, None),
    ("Доставка: завтра", UNKNOWN, None),
    ("Бесплатная доставка", UNKNOWN, None),
    ("Ships today", UNKNOWN, None),
    ("Delivery: tomorrow", UNKNOWN, None),
]

COUNTS: list[Row] = [
    ("Осталось 3 шт.", LOW, 3),
    ("Осталось 1 шт.", LOW, 1),
    ("Осталось: 2 шт.", LOW, 2),
    ("Остался 1", LOW, 1),
    ("Всего 2 шт.", LOW, 2),
    ("Только 1 шт.", LOW, 1),
    ("В наличии: 3 шт.", LOW, 3),
    ("В наличии 2 шт", LOW, 2),
    ("Есть в наличии 5 шт.", LOW, 5),
    ("В наличии. Осталось 2 шт.", LOW, 2),
    ("Мало (3 шт.)", LOW, 3),
    ("Склад Москва: 2 шт.", LOW, 2),
    ("Москва: 1 шт., Казань: 2 шт.", LOW, 3),
    ("Only 2 left", LOW, 2),
    ("Only 1 left in stock - order soon.", LOW, 1),
    ("Осталось 12 шт.", IN, 12),
    ("Осталось 6 штук", IN, 6),
    ("Наличие: 25 шт.", IN, 25),
    ("Остаток: 42 шт.", IN, 42),
    ("Остаток на складе: 1 250 шт.", IN, 1250),
    ("На складе: 18 шт.", IN, 18),
    ("Кол-во: 10", IN, 10),
    ("Количество: 9 шт.", IN, 9),
    ("В наличии 120 шт", IN, 120),
    ("1 000 шт.", IN, 1000),
    ("В наличии: 25 шт., гарантия 1 год", IN, 25),
    ("Склад 1: 10 шт. Склад 2: 4 шт.", IN, 14),
    ("Москва: нет, СПб: 7 шт.", IN, 7),
    ("Москва: 0 шт., СПб: 5 шт.", LOW, 5),
    ("Stock: 30 units", IN, 30),
    ("Qty: 8", IN, 8),
    ("12 pcs", IN, 12),
    ("Остаток: 0 шт.", OUT, 0),
    ("0 шт.", OUT, 0),
    ("Наличие: 0", OUT, 0),
    ("Нет в наличии (0 шт.)", OUT, 0),
    ("Москва: 0 шт., СПб: 0 шт.", OUT, 0),
]

BOUNDS: list[Row] = [
    ("Наличие: >10 шт.", IN, None),
    ("Более 10 шт.", IN, None),
    ("Свыше 100 шт.", IN, None),
    ("Больше 20", IN, None),
    ("10+", IN, None),
    ("В наличии > 50 шт.", IN, None),
    ("На складе: более 100", IN, None),
    ("≥ 20 шт.", IN, None),
    ("Менее 5 шт.", LOW, None),
    ("< 5 шт.", LOW, None),
    ("Остаток: менее 3 шт.", LOW, None),
    ("Less than 5", LOW, None),
]

LOW_STOCK: list[Row] = [
    ("Мало", LOW, None),
    ("Наличие: мало", LOW, None),
    ("В наличии: мало", LOW, None),
    ("В наличии, мало", LOW, None),
    ("Осталось мало", LOW, None),
    ("Осталась последняя штука", LOW, None),
    ("Последний экземпляр", LOW, None),
    ("Последние штуки", LOW, None),
    ("Последний", LOW, None),
    ("Заканчивается", LOW, None),
    ("Товар заканчивается", LOW, None),
    ("Скоро закончится", LOW, None),
    ("Ограниченное количество", LOW, None),
    ("Low stock", LOW, None),
    ("Limited stock", LOW, None),
    ("Only a few left", LOW, None),
    ("Almost gone", LOW, None),
]

OUT_OF_STOCK: list[Row] = [
    ("Нет в наличии", OUT, None),
    ("Товар закончился", OUT, None),
    ("Этот товар закончился", OUT, None),
    ("Товара нет в наличии", OUT, None),
    ("Временно нет в наличии", OUT, None),
    ("Пока нет в наличии", OUT, None),
    ("Сейчас нет в наличии", OUT, None),
    ("Нет на складе", OUT, None),
    ("Нет в продаже", OUT, None),
    ("Нет", OUT, None),
    ("Нет.", OUT, None),
    ("Наличие: нет", OUT, None),
    ("В наличии: нет", OUT, None),
    ("На складе: нет", OUT, None),
    ("Товара в наличии нет", OUT, None),
    ("В наличии нет", OUT, None),
    ("Отсутствует", OUT, None),
    ("Временно отсутствует", OUT, None),
    ("Товар временно отсутствует на складе", OUT, None),
    ("Отсутствует в продаже", OUT, None),
    ("Распродано", OUT, None),
    ("Снят с продажи", OUT, None),
    ("Снято с производства", OUT, None),
    ("Выведен из ассортимента", OUT, None),
    ("Продажи приостановлены", OUT, None),
    ("Товар недоступен для заказа", OUT, None),
    ("Недоступен в вашем регионе", OUT, None),
    ("Ожидается поступление", OUT, None),
    ("Ожидается", OUT, None),
    ("Ожидается 15.12", OUT, None),
    ("Ожидается поставка через 2 недели", OUT, None),
    ("Ожидаем поступление 20.01", OUT, None),
    ("Поступление ожидается в феврале", OUT, None),
    ("В пути", OUT, None),
    ("Нет остатков", OUT, None),
    ("Остатков нет", OUT, None),
    ("Нет в наличии. Сообщить о поступлении", OUT, None),
    ("Нет в наличии — узнать о поступлении", OUT, None),
    ("Нет в наличии, доступен под заказ", OUT, None),
    ("Нет в наличии. Доставка завтра", OUT, None),
    ("Нет в наличии, отзывы: 12", OUT, None),
    ("Out of stock", OUT, None),
    ("Sold out", OUT, None),
    ("Currently unavailable", OUT, None),
    ("Temporarily out of stock", OUT, None),
    ("This item is currently out of stock", OUT, None),
    ("No longer available", OUT, None),
    ("Not in stock", OUT, None),
    ("In stock: no", OUT, None),
]

PREORDER: list[Row] = [
    ("Под заказ", PRE, None),
    ("Товар под заказ", PRE, None),
    ("Под заказ (2-3 недели)", PRE, None),
    ("Под заказ: 10 шт.", PRE, None),
    ("Только под заказ", PRE, None),
    ("На заказ", PRE, None),
    ("Предзаказ", PRE, None),
    ("Оформить предзаказ", PRE, None),
    ("Доступен по предзаказу", PRE, None),
    ("Доступен под заказ", PRE, None),
    ("Доступно к заказу", PRE, None),
    ("Предварительный заказ", PRE, None),
    ("Скоро в продаже", PRE, None),
    ("Поставка под заказ 5-7 дней", PRE, None),
    ("Изготовление под заказ", PRE, None),
    ("Наличие: под заказ", PRE, None),
    ("Статус: предзаказ", PRE, None),
    ("Pre-order", PRE, None),
    ("Preorder now", PRE, None),
    ("Available to order", PRE, None),
    ("Available for pre-order", PRE, None),
    ("On backorder", PRE, None),
    ("Made to order", PRE, None),
    ("Coming soon", PRE, None),
]

CONTRADICTIONS: list[Row] = [
    ("В наличии. Нет в наличии", UNKNOWN, None),
    ("Есть в наличии, товар закончился", UNKNOWN, None),
    ("Мало. Нет в наличии", UNKNOWN, None),
    ("Предзаказ. В наличии", UNKNOWN, None),
    ("В наличии / Под заказ", UNKNOWN, None),
    ("Нет в наличии, 5 шт.", UNKNOWN, None),
    ("Осталось 3 шт. Распродано", UNKNOWN, None),
    ("In stock. Out of stock", UNKNOWN, None),
    ("Доставка: есть. Нет в наличии", UNKNOWN, None),
]

STOCK_WORD_IN_UNRELATED_TEXT: list[Row] = [
    ("Осталось 3 дня до конца акции", UNKNOWN, None),
    ("Осталось 2 часа", UNKNOWN, None),
    ("Нет отзывов", UNKNOWN, None),
    ("Отзывы отсутствуют", UNKNOWN, None),
    ("Отзывы: нет", UNKNOWN, None),
    ("Отзывов нет", UNKNOWN, None),
    ("Есть вопросы? Позвоните", UNKNOWN, None),
    ("Есть отзывы", UNKNOWN, None),
    ("Много отзывов", UNKNOWN, None),
    ("Мало кто знает", UNKNOWN, None),
    ("Нет ограничений", UNKNOWN, None),
    ("Скидки отсутствуют", UNKNOWN, None),
    ("Доступен в трёх цветах", UNKNOWN, None),
    ("Available in 3 colors", UNKNOWN, None),
    ("Продано 15 шт.", UNKNOWN, None),
    ("Продано более 1000 шт.", UNKNOWN, None),
    ("Отзывы: 5", UNKNOWN, None),
    ("Гарантия: 12 мес.", UNKNOWN, None),
    ("Гарантия: нет", UNKNOWN, None),
    ("В упаковке: 10 шт.", UNKNOWN, None),
    ("Мин. заказ: 2 шт.", UNKNOWN, None),
    ("Минимальный заказ: 3 шт.", UNKNOWN, None),
    ("Кратность: 5 шт", UNKNOWN, None),
    ("Цвет: нет", UNKNOWN, None),
    ("Размер: 42", UNKNOWN, None),
    ("Вес: 2 кг", UNKNOWN, None),
    ("Ожидаемая дата доставки: завтра", UNKNOWN, None),
    ("Ожидается доставка 12.05", UNKNOWN, None),
    ("Сообщить о поступлении", UNKNOWN, None),
    ("Уточняйте наличие", UNKNOWN, None),
    ("Наличие уточняйте у менеджера", UNKNOWN, None),
    ("Наличие: уточняйте", UNKNOWN, None),
    ("Купить", UNKNOWN, None),
    ("Добавить в корзину", UNKNOWN, None),
    ("Add to cart", UNKNOWN, None),
    ("Распродажа", UNKNOWN, None),
    ("Новинка", UNKNOWN, None),
    ("Хит продаж", UNKNOWN, None),
    ("Скидка 10%", UNKNOWN, None),
    ("12 990 ₽", UNKNOWN, None),
    ("Рейтинг 4.8 из 5", UNKNOWN, None),
    ("5 из 5 звёзд", UNKNOWN, None),
    ("Пн-Пт 9:00-18:00", UNKNOWN, None),
    ("Артикул: TL-1001", UNKNOWN, None),
    ("Нетто 2 кг", UNKNOWN, None),
    ("Естественная вентиляция", UNKNOWN, None),
    ("Ожидаемый срок службы 10 лет", UNKNOWN, None),
    ("Наличный расчёт", UNKNOWN, None),
    ("No reviews yet", UNKNOWN, None),
    ("Stock photo", UNKNOWN, None),
]

TABLES = {
    "in_stock": IN_STOCK,
    "on_hand_despite_trailing_text": ON_HAND_DESPITE_TRAILING_TEXT,
    "channels": CHANNELS,
    "counts": COUNTS,
    "bounds": BOUNDS,
    "low_stock": LOW_STOCK,
    "out_of_stock": OUT_OF_STOCK,
    "preorder": PREORDER,
    "contradictions": CONTRADICTIONS,
    "stock_word_in_unrelated_text": STOCK_WORD_IN_UNRELATED_TEXT,
}
ROWS = [pytest.param(*row, id=f"{name}:{row[0]}") for name, rows in TABLES.items() for row in rows]


def test_the_tables_hold_at_least_200_distinct_phrases() -> None:
    texts = [row[0] for rows in TABLES.values() for row in rows]
    assert len(texts) == len(set(texts)) >= 200


@pytest.mark.parametrize(("text", "state", "quantity"), ROWS)
def test_availability_text_reads_as_a_shop_means_it(text: str, state: StockState, quantity: int | None) -> None:
    parsed = parse_stock(text)
    assert (parsed.state, parsed.quantity) == (state, quantity)
    assert parsed.raw == text


STATEMENTS = [(phrase, entry.state) for phrase, entry in TABLE.items() if entry.state is not None]
SAYS_NOTHING = [phrase for phrase, entry in TABLE.items() if entry.state is None]


@pytest.mark.parametrize(("phrase", "state"), STATEMENTS)
def test_every_statement_in_the_table_reads_as_its_state_alone(phrase: str, state: StockState) -> None:
    assert parse_stock(phrase.capitalize()).state is state


@pytest.mark.parametrize(("phrase", "state"), STATEMENTS)
@pytest.mark.parametrize("trailing", [". Ожидаемая дата доставки: завтра", ", отзывы отсутствуют", " — нет отзывов"])
def test_no_statement_is_overturned_by_unrelated_trailing_text(phrase: str, state: StockState, trailing: str) -> None:
    assert parse_stock(phrase + trailing).state is state


@pytest.mark.parametrize("phrase", SAYS_NOTHING)
def test_headings_channels_and_neutral_text_alone_say_nothing(phrase: str) -> None:
    assert parse_stock(phrase).state is UNKNOWN


@pytest.mark.parametrize("phrase", [p for p, e in TABLE.items() if e.role is Role.NEUTRAL])
def test_neutral_text_before_a_count_is_no_count(phrase: str) -> None:
    for text in (f"{phrase}: 5 шт.", f"{phrase} 5 шт."):
        assert (parse_stock(text).state, parse_stock(text).quantity) == (UNKNOWN, None), text


def test_the_table_is_written_as_the_grammar_normalises_text() -> None:
    for phrase in TABLE:
        assert phrase == " ".join(phrase.split()) == phrase.lower().replace("ё", "е").replace("-", " "), phrase
