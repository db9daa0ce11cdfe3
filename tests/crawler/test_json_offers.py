"""Offers out of a marketplace's JSON (JMESPath per field, kopecks exactly) and sellers' legal details, checked."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from crawler.config import Distributor, LegalFields, load_config
from crawler.items import FLAG_PRICE_MISSING, StockState
from crawler.json_offers import JsonOfferReader, amount, legal_from_json, legal_from_page, load_document
from crawler.parsing.legal import LegalDetails
from crawler.parsing.registry_numbers import is_ogrn, is_tax_id
from fixtures.pilot.vitrina import card, card_offer
from fixtures.sites.vitrina import detail_payload, seller_payload

PILOT_YAML = Path(__file__).resolve().parents[2] / "pilot.yaml"
PAGE = "http://vitrina.test/catalog/21740102/detail.aspx?dest=-1257786"
JSON_LEGAL = LegalFields(tax_id="inn", ogrn="ogrn || ogrnip", legal_name="supplierName", address="legalAddress")


@pytest.fixture(scope="module")
def vitrina() -> Distributor:
    return load_config(PILOT_YAML).distributor("vitrina")


@pytest.fixture(scope="module")
def reader(vitrina: Distributor) -> JsonOfferReader:
    assert vitrina.json_source is not None
    return JsonOfferReader(vitrina.json_source, vitrina)


def _document(*products: dict[str, Any]) -> Any:
    """A `/api/v2/detail` answer as the spider gets it: bytes, parsed."""
    return load_document(json.dumps({"state": 0, "data": {"products": list(products)}}).encode())


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1209000, "kopeck", "12090.00"),
        ("1209000", "kopeck", "12090.00"),
        (439120, "kopeck", "4391.20"),
        (Decimal("4391.2"), "rub", "4391.20"),
        ("12990", "rub", "12990.00"),
    ],
)
def test_prices_come_out_in_roubles_to_the_kopeck(value: object, unit: str, expected: str) -> None:
    assert str(amount(value, unit)) == expected


@pytest.mark.parametrize("value", [0, -500, True, None, "n/a", [1], {"total": 1}, Decimal("1209000.5"), "NaN"])
def test_what_is_no_price_reads_as_none(value: object) -> None:
    assert amount(value, "kopeck") is None


def test_a_document_never_gives_floats() -> None:
    assert load_document(b'{"price": 4391.20}') == {"price": Decimal("4391.20")}
    assert load_document(b"<html>captcha</html>") is None
    assert load_document(b"") is None


def test_a_card_maps_to_its_shown_seller_and_crossed_out_prices(reader: JsonOfferReader) -> None:
    # 21740102: the seller's 4 990 ₽, 12 % off by the platform, 6 490 ₽ crossed out.
    [offer] = reader.read(_document(detail_payload(card(21740102), "msk")), url=PAGE, http_status=200) or []
    assert (offer.price, offer.seller_price, offer.old_price, offer.card_price) == (
        "4391.20",
        "4990.00",
        "6490.00",
        None,
    )
    assert (offer.price_raw, offer.currency, offer.url) == ("439120", "RUB", PAGE)
    assert (offer.seller_code, offer.seller_name, offer.vendor_code) == ("1180304", "ТеплоДом", "TL-1001")
    assert offer.flags == []
    assert offer.price_sources == {"price": "json:sizes[0].price.total", "seller_price": "json:sizes[0].price.product"}


def test_a_card_price_is_read_where_the_card_shows_one(reader: JsonOfferReader) -> None:
    [offer] = reader.read(_document(detail_payload(card(21740122), "spb")), url=PAGE, http_status=200) or []
    truth = card_offer(21740122, region="spb")
    assert truth.card_price is not None
    assert (offer.price, offer.seller_price) == ("9790.20", "9990.00")
    assert offer.card_price == f"{truth.card_price:.2f}"
    assert offer.price_sources["card_price"] == "json:sizes[0].cardPrice"


def test_a_crossed_out_price_equal_to_the_sellers_is_no_old_price(reader: JsonOfferReader) -> None:
    [offer] = reader.read(_document(detail_payload(card(21740103), "msk")), url=PAGE, http_status=200) or []
    assert (offer.price, offer.old_price) == ("4890.00", None)


def test_stock_is_the_warehouses_that_deliver_to_the_region(reader: JsonOfferReader) -> None:
    c = card(21740119)  # out of stock in nsk only
    [there] = reader.read(_document(detail_payload(c, "msk")), url=PAGE, http_status=200) or []
    [not_there] = reader.read(_document(detail_payload(c, "nsk")), url=PAGE, http_status=200) or []
    assert (there.stock, there.quantity) == (StockState.IN_STOCK.value, c.quantity("msk"))
    assert (not_there.stock, not_there.quantity) == (StockState.OUT_OF_STOCK.value, 0)


def test_a_document_listing_no_product_gives_no_offer(reader: JsonOfferReader) -> None:
    assert reader.read(_document(), url=PAGE, http_status=200) == []


@pytest.mark.parametrize(
    "document",
    [None, {"data": {"items": []}}, {"data": {"products": {"id": 1}}}, {"data": {"products": [1, 2]}}, [1]],
)
def test_another_shape_is_told_from_no_product(reader: JsonOfferReader, document: object) -> None:
    assert reader.read(document, url=PAGE, http_status=200) is None


def test_a_product_without_a_price_is_flagged_never_guessed(reader: JsonOfferReader) -> None:
    product = detail_payload(card(21740102), "msk")
    product["sizes"][0]["price"] = {"basic": "скоро", "product": None, "total": [439120]}
    [offer] = reader.read(_document(product), url=PAGE, http_status=200) or []
    assert (offer.price, offer.seller_price, offer.price_sources) == (None, None, {})
    assert FLAG_PRICE_MISSING in offer.flags


def test_a_type_error_in_a_path_reads_as_absent(reader: JsonOfferReader) -> None:
    product = detail_payload(card(21740102), "msk")
    product["sizes"][0]["stocks"] = [{"wh": 1, "qty": "много"}]  # sum() over a string
    [offer] = reader.read(_document(product), url=PAGE, http_status=200) or []
    assert (offer.price, offer.quantity, offer.stock) == ("4391.20", None, StockState.UNKNOWN.value)


def test_legal_details_of_a_company_and_of_an_entrepreneur() -> None:
    company = legal_from_json(seller_payload(1180302), JSON_LEGAL, "src")
    person = legal_from_json(seller_payload(1180304), JSON_LEGAL, "src")
    assert company == LegalDetails(
        "7811654328",
        "1157847123400",
        "ООО «КлиматМаркет»",
        "192019, г. Санкт-Петербург, ул. Седова, д. 12, лит. А",
        "src",
    )
    assert isinstance(person, LegalDetails)
    assert (person.tax_id, person.ogrn) == ("502401234564", "318502400123451")  # ОГРНИП under `ogrnip`


@pytest.mark.parametrize("inn", ["77041234", "7704123451", "77041234500", "ИНН неизвестен", None])
def test_a_seller_whose_inn_is_no_inn_is_unresolved(inn: str | None) -> None:
    data = {**(seller_payload(1180301) or {}), "inn": inn}
    assert isinstance(legal_from_json(data, JSON_LEGAL, "src"), str)


def test_a_wrong_ogrn_is_dropped_the_rest_kept() -> None:
    data = {**(seller_payload(1180301) or {}), "ogrn": "1177746123456"}
    details = legal_from_json(data, JSON_LEGAL, "src")
    assert isinstance(details, LegalDetails)
    assert (details.tax_id, details.ogrn) == ("7704123450", None)


def test_registration_numbers_are_checked_by_their_control_digits() -> None:
    assert is_tax_id("7704123450")
    assert is_tax_id("502401234564")
    assert not is_tax_id("7704123451")
    assert not is_tax_id("502401234565")
    assert is_ogrn("1177746123455")
    assert is_ogrn("318502400123451")
    assert not is_ogrn("1177746123454")
    assert not is_ogrn("31850240012345")


def test_legal_details_from_a_seller_page() -> None:
    html = """<html><body><dl class="seller-legal"><dt>Наименование</dt><dd>ООО «КлиматМаркет»</dd>
    <dt>ИНН</dt><dd> 7811 654 328 </dd><dt>ОГРН</dt><dd>ОГРН 1157847123400</dd><dt>Адрес</dt><dd>СПб</dd></dl>"""
    root = etree.fromstring(html, etree.HTMLParser())

    def dd(label: str) -> str:
        return f"xpath://dl[contains(@class, 'seller-legal')]/dt[.='{label}']/following-sibling::dd[1]"

    fields = LegalFields(tax_id=dd("ИНН"), ogrn=dd("ОГРН"), legal_name=dd("Наименование"), address=dd("Адрес"))
    assert legal_from_page(root, fields, "p") == LegalDetails(
        "7811654328", "1157847123400", "ООО «КлиматМаркет»", "СПб", "p"
    )
