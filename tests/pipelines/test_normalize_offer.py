"""The normalize pipeline: money as two-decimal strings, the default currency, GTIN in one form, valid stock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crawler.items import FLAG_BLOCKED, FLAG_PRICE_MISSING, RawOffer
from pipelines.normalize import BadOffer, clean_offer

NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)


def raw(**fields: Any) -> RawOffer:
    return RawOffer(**{"distributor": "shop", "url": "http://shop.test/p/1", "seller_code": "shop", **fields})


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("12990", "12990.00"),
        ("12990.5", "12990.50"),
        (" 990.00 ", "990.00"),
        ("0", None),
        ("-5", None),
        ("1e3", "1000.00"),
        ("abc", None),
        ("NaN", None),
    ],
)
def test_price_is_a_two_decimal_string_or_none(price: str, expected: str | None) -> None:
    assert clean_offer(raw(price=price), "RUB", NOW).price == expected


def test_a_price_without_currency_gets_the_distributor_currency() -> None:
    assert clean_offer(raw(price="100"), "KZT", NOW).currency == "KZT"
    assert clean_offer(raw(price="100", currency="usd"), "RUB", NOW).currency == "USD"
    assert clean_offer(raw(), "RUB", NOW).currency is None


def test_a_missing_price_is_flagged_unless_the_reason_is_known() -> None:
    assert clean_offer(raw(), "RUB", NOW).flags == [FLAG_PRICE_MISSING]
    assert clean_offer(raw(flags=[FLAG_BLOCKED, FLAG_BLOCKED]), "RUB", NOW).flags == [FLAG_BLOCKED]


def test_codes_stock_text_and_time_are_cleaned() -> None:
    offer = clean_offer(
        raw(
            gtin=" 4607123010037 ",
            vendor_code="  TL-1001\n",
            title="Конвектор\n   Termoline  ",
            stock="sold out",
            quantity=-3,
            fetched_at="2026-11-23T09:00:00+03:00",
        ),
        "RUB",
        NOW,
    )
    assert offer.gtin == "04607123010037"
    assert offer.vendor_code == "TL-1001"
    assert offer.title == "Конвектор Termoline"
    assert offer.stock == "unknown"
    assert offer.quantity is None
    assert offer.fetched_at == "2026-11-23T06:00:00+00:00"
    assert clean_offer(raw(gtin="4607123010038"), "RUB", NOW).gtin is None  # bad check digit
    assert clean_offer(raw(fetched_at="2026-11-23T09:00:00"), "RUB", NOW).fetched_at == NOW.isoformat()


def test_an_offer_without_url_or_seller_is_refused() -> None:
    with pytest.raises(BadOffer):
        clean_offer(raw(url=" "), "RUB", NOW)
    with pytest.raises(BadOffer):
        clean_offer(raw(seller_code=""), "RUB", NOW)
