"""Reading an offer from a page: config selectors (CSS / XPath), and what wins when the page and JSON-LD disagree."""

from __future__ import annotations

import datetime as dt
import email.utils
from decimal import Decimal

import pytest
from lxml import html
from parsel import css2xpath

from crawler.config import Distributor, Selectors
from crawler.errors import UserError
from crawler.extract import FieldReader, OfferFields, build_offer, css_to_xpath
from crawler.items import StockState
from crawler.parsing.structured import extract_product
from crawler.retry import retry_after_seconds

PAGE = """<html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "Product", "name": "Конвектор TL-1001", "sku": "TL1001-RU",
 "offers": {"@type": "Offer", "price": "4690.00", "priceCurrency": "RUB", "availability": "https://schema.org/InStock"}}
</script></head><body>
<h1 id="title"> Конвектор\u00a0TL-1001 </h1>
<div class="price"><span>5\u00a0490</span> <span>₽</span></div>
<div class="sticky"><div class="price">5 490 ₽</div></div>
<div class="stock">Осталось 2 шт.</div>
<table><tr><td>Артикул</td><td>TL-1001</td></tr></table>
<a class="card" href="/p/1">1</a><a class="card" href="/p/2">2</a>
<div class="offer" data-seller-id="s-1"><b class="p">100 ₽</b></div>
<div class="offer" data-seller-id="s-2"><b class="p">90 ₽</b></div>
</body></html>"""


def distributor(**selectors: str) -> Distributor:
    return Distributor(code="shop", name="Shop", start_urls=["http://127.0.0.1/"], selectors=Selectors(**selectors))


def read(**selectors: str) -> OfferFields:
    return FieldReader(Selectors(**selectors)).fields(html.fromstring(PAGE))


def test_css_reads_an_elements_whole_text_with_spaces_normalized() -> None:
    fields = read(name="h1", price=".price", availability=".stock")
    assert fields.name == "Конвектор TL-1001"
    assert fields.prices == ["5 490 ₽"]  # the same price twice (sticky panel) is one price
    assert fields.availability == "Осталось 2 шт."


def test_xpath_after_the_prefix_and_css_pseudo_elements() -> None:
    fields = read(vendor_code="xpath://td[.='Артикул']/following-sibling::td[1]/text()", name="h1#title::attr(id)")
    assert (fields.vendor_code, fields.name) == ("TL-1001", "title")


@pytest.mark.parametrize(
    "css",
    [
        ".price",
        "div.price",
        ".sticky .price::text",
        "div.offer[data-seller-id] b.p",
        ".offer > .p",
        "h1#title",
        "a.card",
    ],
)
def test_the_faster_class_steps_find_what_parsel_finds(css: str) -> None:
    root = html.fromstring(PAGE)
    assert css_to_xpath(css) != css2xpath(css) or "." not in css
    assert root.xpath(css_to_xpath(css)) == root.xpath(css2xpath(css))


def test_links_and_offer_elements() -> None:
    reader = FieldReader(
        Selectors(product_links="a.card", offer=".offer", seller_id="::attr(data-seller-id)", price=".p")
    )
    root = html.fromstring(PAGE)
    assert reader.links(root, "product_links") == ["/p/1", "/p/2"]
    offers = [reader.fields(node) for node in reader.select(root, "offer")]
    assert [(o.seller_id, o.prices) for o in offers] == [("s-1", ["100 ₽"]), ("s-2", ["90 ₽"])]


@pytest.mark.parametrize(("name", "query", "kind"), [("price", ".price[[", "CSS"), ("name", "xpath://h1[", "XPath")])
def test_a_bad_selector_is_a_user_error_naming_the_field(name: str, query: str, kind: str) -> None:
    # The config refuses such a selector at load (tests/crawler/test_config_rehearsal.py); built unchecked, the
    # reader still names it.
    with pytest.raises(UserError, match=rf"selectors\.{name}: .* is not a valid {kind} selector"):
        FieldReader(Selectors.model_construct(**{name: query}))


def test_the_visible_price_wins_over_json_ld_and_the_disagreement_is_kept() -> None:
    fields = read(price=".price", availability=".stock")
    structured = extract_product(PAGE, "http://127.0.0.1/p")
    offer = build_offer(
        fields, distributor=distributor(price=".price"), url="u", seller_code="shop", structured=structured
    )
    assert (offer.price, offer.stock, offer.quantity) == ("5490.00", StockState.LOW_STOCK.value, 2)
    assert offer.flags == ["structured_mismatch"]
    assert offer.structured["price"] is not None
    assert Decimal(offer.structured["price"]) == Decimal("4690")
    assert offer.vendor_code == "TL1001-RU"  # from JSON-LD, where the page's selectors give none


def test_json_ld_speaks_where_the_visible_page_says_nothing() -> None:
    structured = extract_product(PAGE, "http://127.0.0.1/p")
    offer = build_offer(OfferFields(), distributor=distributor(), url="u", seller_code="shop", structured=structured)
    assert (offer.price, offer.currency, offer.stock, offer.flags) == ("4690.00", "RUB", "in_stock", [])


def test_in_stock_against_a_few_left_is_no_disagreement() -> None:
    structured = extract_product(PAGE, "http://127.0.0.1/p")
    fields = OfferFields(prices=["4 690 ₽"], availability="Осталось 2 шт.")
    offer = build_offer(fields, distributor=distributor(), url="u", seller_code="shop", structured=structured)
    assert offer.flags == []


def test_two_prices_give_no_price_and_no_page_price_is_missing() -> None:
    d = distributor()
    conflict = build_offer(OfferFields(prices=["5 490 ₽", "4 990 ₽"]), distributor=d, url="u", seller_code="shop")
    assert (conflict.price, conflict.flags) == (None, ["price_conflict"])
    missing = build_offer(OfferFields(name="x"), distributor=d, url="u", seller_code="shop")
    assert (missing.price, missing.stock, missing.flags) == (None, "unknown", ["price_missing"])


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds(later, now=now.timestamp()) == 90.0
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None


CODED = """<html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "Product", "name": "Дрель-шуруповерт Gromax GD1850Z",
 "sku": "558812", "mpn": "GD1850Z",
 "offers": {"@type": "Offer", "price": "8990", "priceCurrency": "RUB", "availability": "https://schema.org/InStock",
            "inventoryLevel": {"@type": "QuantitativeValue", "value": 7}}}
</script></head><body>
<div class="sku">Артикул: AB-1210</div><div class="ean">Штрихкод: 4607004650017</div>
</body></html>"""


def test_a_vendor_code_selector_that_takes_the_label_too_gives_the_code() -> None:
    fields = FieldReader(Selectors(vendor_code=".sku", ean=".ean")).fields(html.fromstring(CODED))
    assert (fields.vendor_code, fields.ean) == ("AB-1210", "4607004650017")


def test_json_ld_mpn_is_the_vendor_code_the_shops_sku_its_own_and_inventory_level_the_quantity() -> None:
    structured = extract_product(CODED, "http://127.0.0.1/p")
    offer = build_offer(OfferFields(), distributor=distributor(), url="u", seller_code="shop", structured=structured)
    assert (offer.vendor_code, offer.seller_sku) == ("GD1850Z", "558812")
    assert (offer.stock, offer.quantity) == ("in_stock", 7)


def test_a_quantity_the_page_shows_wins_over_inventory_level() -> None:
    structured = extract_product(CODED, "http://127.0.0.1/p")
    fields = OfferFields(prices=["8 990 ₽"], quantity="3 шт.")
    offer = build_offer(fields, distributor=distributor(), url="u", seller_code="shop", structured=structured)
    assert offer.quantity == 3
