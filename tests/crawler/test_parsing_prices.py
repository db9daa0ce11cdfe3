"""One offer's price read from several places on a page: agreement gives the price, disagreement a flag."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crawler.items import FLAG_PRICE_CONFLICT, FLAG_PRICE_FROM, FLAG_PRICE_ON_REQUEST
from crawler.parsing.prices import ParsedPrice, currency_code, parse_price, parse_prices_consistent


def test_prices_that_agree_give_the_price() -> None:
    parsed = parse_prices_consistent(["12\xa0990 ₽", "12990", "12 990,00 руб."])
    assert parsed == ParsedPrice(Decimal("12990.00"), "RUB", None, "12\xa0990 ₽ | 12990 | 12 990,00 руб.")


def test_prices_that_differ_give_no_price_never_the_cheaper_one() -> None:
    parsed = parse_prices_consistent(["12 990 ₽", "11 990 ₽"])
    assert (parsed.amount, parsed.currency, parsed.flag) == (None, "RUB", FLAG_PRICE_CONFLICT)


def test_same_number_in_different_currencies_is_a_conflict() -> None:
    parsed = parse_prices_consistent(["990 ₽", "$990"])
    assert (parsed.amount, parsed.currency, parsed.flag) == (None, None, FLAG_PRICE_CONFLICT)


def test_one_text_in_conflict_makes_the_whole_offer_a_conflict() -> None:
    assert parse_prices_consistent(["12 990 ₽", "12 990 ₽ 14 990 ₽"]).flag == FLAG_PRICE_CONFLICT


def test_on_request_beside_a_price_is_a_conflict() -> None:
    parsed = parse_prices_consistent(["Цена по запросу", "12 990 ₽"])
    assert (parsed.amount, parsed.flag) == (None, FLAG_PRICE_CONFLICT)


def test_on_request_everywhere_stays_on_request() -> None:
    parsed = parse_prices_consistent(["Цена по запросу", "уточняйте цену"])
    assert (parsed.amount, parsed.flag) == (None, FLAG_PRICE_ON_REQUEST)


def test_a_lower_bound_anywhere_keeps_the_price_from_flag() -> None:
    parsed = parse_prices_consistent(["12 990 ₽", "от 12 990 ₽"])
    assert (parsed.amount, parsed.flag) == (Decimal("12990.00"), FLAG_PRICE_FROM)


def test_empty_and_missing_texts_are_ignored() -> None:
    assert parse_prices_consistent([None, "", " \xa0", "12 990 ₽"]).amount == Decimal("12990.00")
    assert parse_prices_consistent([None, "  "]) == ParsedPrice(None, None, None, None)
    assert parse_prices_consistent([]) == ParsedPrice(None, None, None, None)


def test_texts_without_a_price_do_not_outvote_one_with_a_price() -> None:
    parsed = parse_prices_consistent(["Цена:", "12 990 ₽"])
    assert (parsed.amount, parsed.flag) == (Decimal("12990.00"), None)


def test_the_site_decimal_separator_applies_to_every_text() -> None:
    assert parse_prices_consistent(["12.990", "12 990"], decimal_separator=",").amount == Decimal("12990.00")
    assert parse_prices_consistent(["12.990", "12 990"], decimal_separator=".").flag == FLAG_PRICE_CONFLICT


def test_none_is_no_price() -> None:
    assert parse_price(None) == ParsedPrice(None, None, None, None)


def test_an_unknown_decimal_separator_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="decimal_separator"):
        parse_price("12 990", decimal_separator=" ")


@pytest.mark.parametrize(
    ("token", "code"),
    [
        *[("₽", "RUB"), ("руб.", "RUB"), ("RUR", "RUB"), ("р.", "RUB"), ("rur", "RUB"), (" RUB ", "RUB")],
        *[("Br", "BYN"), ("BYR", "BYN"), ("₸", "KZT"), ("$", "USD"), ("€", "EUR")],
        *[("ABC", None), ("", None), (None, None)],
    ],
)
def test_currency_code(token: str | None, code: str | None) -> None:
    assert currency_code(token) == code


def test_only_the_head_of_a_long_text_is_read() -> None:
    filler = "Описание товара. " * 100
    assert parse_price("12 990 ₽ " + filler).amount == Decimal("12990.00")
    assert parse_price(filler + "12 990 ₽").amount is None


# Issue 14, case 2: a credit, instalment or per-month amount is never the offer price.
OFFER_PRICE_BESIDE_CREDIT = [
    ("Цена 10 000 ₽, в кредит от 1 667 ₽/мес", "10000.00"),
    ("10 000 ₽ или 1 667 ₽/мес", "10000.00"),
    ("10 000 ₽ В кредит 1 667 ₽ в месяц", "10000.00"),
    ("10 000 ₽ Рассрочка 0-0-12: 833 ₽ × 12", "10000.00"),
    ("10 000 ₽ Долями 4 × 2 500 ₽", "10000.00"),
    ("10 000 ₽ Сплит: 4 платежа по 2 500 ₽", "10000.00"),
    ("10 000 ₽ Оплата частями 2 500 ₽ × 4", "10000.00"),
    ("10 000 ₽ платёж от 1 667 ₽", "10000.00"),
    ("10 000 ₽ Ежемесячный платеж: 1 667 ₽", "10000.00"),
    ("10 000 ₽. Рассрочка от 833 руб. в мес.", "10000.00"),
    ("10 000 руб. В рассрочку на 12 месяцев от 833 руб.", "10000.00"),
    ("В кредит от 1 667 ₽/мес, цена 10 000 ₽", "10000.00"),
    ("В кредит 1 667 ₽/мес или 10 000 ₽ сразу", "10000.00"),
    ("Цена: 10 000 ₽ (в кредит 1 667 ₽ в месяц)", "10000.00"),
    ("Цена 10\xa0000\xa0₽; кредит от 1\xa0667\xa0₽/мес.", "10000.00"),
    ("Старая цена 12 000 ₽ Цена 10 000 ₽ от 1 667 ₽/мес", "10000.00"),
    ("$100.00 or 4 interest-free payments of $25.00", "100.00"),
    ("$100 or $9.99/mo", "100.00"),
    ("$100, from $9 per month", "100.00"),
    ("1 ₽", "1.00"),
    ("1 ₽ в корзине", "1.00"),
    ("2 × 1 500 ₽", "1500.00"),
]

ONLY_CREDIT = [
    "В кредит 1 667 ₽ в месяц",
    "от 1 667 ₽/мес",
    "1 667 ₽/мес",
    "1 667 ₽ / мес.",
    "1 667 руб. в месяц",
    "Рассрочка 0-0-12: 833 ₽ × 12",
    "Рассрочка 0–0–24",
    "Долями 4 × 2 500 ₽",
    "Сплит 2 500 ₽ × 4",
    "Яндекс Сплит: от 2 500 ₽",
    "Плати частями 4 платежа по 2 500 ₽",
    "Подели: 4 × 2 500 ₽",
    "Платёж от 1 667 ₽",
    "Ежемесячный платёж 1 667 ₽",
    "Кредит от 1 667 ₽",
    "В рассрочку на 12 месяцев",
    "4 payments of $25.00",
    "Pay in 4 installments of $25",
    "$25/mo",
    "$25 per month",
    "$25 a month",
    "$25 monthly",
]


@pytest.mark.parametrize(("text", "amount"), OFFER_PRICE_BESIDE_CREDIT)
def test_a_credit_or_monthly_amount_beside_the_price_is_never_the_price(text: str, amount: str) -> None:
    parsed = parse_price(text)
    assert (parsed.amount, parsed.flag) == (Decimal(amount), None)


@pytest.mark.parametrize("text", ONLY_CREDIT)
def test_a_credit_or_monthly_amount_alone_is_no_price(text: str) -> None:
    parsed = parse_price(text)
    assert (parsed.amount, parsed.flag) == (None, None)
    assert parsed.raw == text


def test_a_monthly_payment_in_a_second_element_does_not_conflict_with_the_price() -> None:
    parsed = parse_prices_consistent(["10 000 ₽", "в кредит от 1 667 ₽/мес"])
    assert (parsed.amount, parsed.flag) == (Decimal("10000.00"), None)


def test_only_monthly_payments_on_the_page_give_no_price() -> None:
    parsed = parse_prices_consistent(["от 1 667 ₽/мес", "В кредит 1 667 ₽ в месяц"])
    assert (parsed.amount, parsed.currency, parsed.flag) == (None, "RUB", None)
