"""The normalize pipeline on a marketplace's extras: the seller's and card prices checked like the price, the region
kept, and legal details only with an ИНН whose control digits agree."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crawler.items import RawOffer
from pipelines.normalize import clean_offer

NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
LEGAL = {
    "tax_id": "7811654328",
    "ogrn": "1157847123400",
    "legal_name": "  ООО «КлиматМаркет»\n",
    "address": "192019, г. Санкт-Петербург",
    "source": "json:/api/seller/1180302",
}


def raw(**fields: Any) -> RawOffer:
    base = {"distributor": "vitrina", "url": "http://vitrina.test/catalog/1/detail.aspx", "seller_code": "1180302"}
    return RawOffer(**{**base, "price": "4391.20", **fields})


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4990", "4990.00"), ("4990.5", "4990.50"), ("0", None), ("-1", None), ("по карте", None), (None, None)],
)
def test_seller_and_card_prices_are_two_decimal_strings_or_none(value: str | None, expected: str | None) -> None:
    offer = clean_offer(raw(seller_price=value, card_price=value), "RUB", NOW)
    assert (offer.seller_price, offer.card_price) == (expected, expected)


def test_the_region_and_price_sources_are_kept() -> None:
    offer = clean_offer(raw(region=" msk ", price_sources={"price": "json:sizes[0].price.total"}), "RUB", NOW)
    assert (offer.region, offer.price_sources) == ("msk", {"price": "json:sizes[0].price.total"})


def test_legal_details_with_a_valid_tax_id_are_cleaned() -> None:
    offer = clean_offer(raw(seller_legal=LEGAL | {"tax_id": "78 11 654328", "ogrn": "1157847123401"}), "RUB", NOW)
    assert offer.seller_legal == {
        "tax_id": "7811654328",
        "ogrn": None,  # its control digit is wrong: dropped alone
        "legal_name": "ООО «КлиматМаркет»",
        "address": "192019, г. Санкт-Петербург",
        "source": "json:/api/seller/1180302",
    }


@pytest.mark.parametrize("tax_id", ["7811654321", "78116", "", None])
def test_legal_details_without_a_real_tax_id_are_dropped(tax_id: str | None) -> None:
    assert clean_offer(raw(seller_legal=LEGAL | {"tax_id": tax_id}), "RUB", NOW).seller_legal is None
