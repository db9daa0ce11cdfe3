"""schema.org Product data out of pages: JSON-LD shapes seen in the wild, microdata and Open Graph fallbacks."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from crawler.items import FLAG_PRICE_CONFLICT, FLAG_PRICE_FROM, StockState
from crawler.parsing.structured import StructuredOffer, StructuredProduct, extract_product

URL = "https://klimatprof.example/p/tl-1001"


def ld(*blocks: Any, attrs: str = 'type="application/ld+json"') -> str:
    scripts = "".join(
        f"<script {attrs}>{b if isinstance(b, str) else json.dumps(b, ensure_ascii=False)}</script>" for b in blocks
    )
    return f"<!DOCTYPE html><html><head><title>TL-1001</title>{scripts}</head><body><h1>Обогреватель</h1></body></html>"


def product(**fields: Any) -> dict[str, Any]:
    return {"@context": "https://schema.org", "@type": "Product", "name": "Обогреватель Термолайн TL-1001", **fields}


def offer(price: Any = "12990.00", **fields: Any) -> dict[str, Any]:
    return {"@type": "Offer", "price": price, "priceCurrency": "RUB", **fields}


def extract(html: str) -> StructuredProduct:
    found = extract_product(html, URL)
    assert found is not None
    return found


def test_a_full_product_is_read() -> None:
    html = ld(
        product(
            sku="TL-1001",
            mpn="TL1001-RU",
            gtin13="4601234567893",
            brand={"@type": "Brand", "name": "Термолайн"},
            offers=offer(
                "12990.00",
                availability="https://schema.org/InStock",
                seller={"@type": "Organization", "name": "Климатпроф"},
            ),
        )
    )
    assert extract(html) == StructuredProduct(
        name="Обогреватель Термолайн TL-1001",
        price="12990.00",
        amount=Decimal("12990.00"),
        currency="RUB",
        flag=None,
        availability=StockState.IN_STOCK,
        availability_raw="https://schema.org/InStock",
        sku="TL-1001",
        mpn="TL1001-RU",
        gtin="4601234567893",
        brand="Термолайн",
        seller_name="Климатпроф",
        offers=[
            StructuredOffer(
                price="12990.00",
                amount=Decimal("12990.00"),
                currency="RUB",
                availability=StockState.IN_STOCK,
                availability_raw="https://schema.org/InStock",
                seller_name="Климатпроф",
            )
        ],
        source="json-ld",
    )


@pytest.mark.parametrize(
    ("price", "raw", "amount"),
    [
        ('"12990"', "12990", "12990.00"),
        ('"12990.50"', "12990.50", "12990.50"),
        ("12990", "12990", "12990.00"),
        ("12990.5", "12990.5", "12990.50"),
        ("12990.499", "12990.499", "12990.50"),
        ('"12 990"', "12 990", "12990.00"),
        ('"12\\u00a0990,50 руб."', "12 990,50 руб.", "12990.50"),
        ('"12.990"', "12.990", "12.99"),  # schema.org numbers use "." as the decimal separator
        ('"0"', "0", None),
        ('"0.00"', "0.00", None),
        ('""', None, None),
        ("null", None, None),
        ("true", None, None),
        ('"по запросу"', "по запросу", None),
    ],
)
def test_price_as_number_or_string(price: str, raw: str | None, amount: str | None) -> None:
    html = ld('{"@type": "Product", "name": "A", "offers": {"@type": "Offer", "price": ' + price + "}}")
    found = extract(html)
    assert (found.offers[0].price, found.offers[0].amount) == (raw, Decimal(amount) if amount else None)


def test_product_in_a_graph_beside_other_nodes() -> None:
    html = ld(
        {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "Organization", "name": "Климатпроф"},
                {
                    "@type": "BreadcrumbList",
                    "itemListElement": [{"@type": "ListItem", "position": 1, "name": "Каталог"}],
                },
                product(sku="TL-1001", offers=offer()),
            ],
        }
    )
    assert (extract(html).sku, extract(html).amount) == ("TL-1001", Decimal("12990.00"))


def test_product_in_a_top_level_list_and_in_a_web_page() -> None:
    assert extract(ld([{"@type": "WebSite"}, product(offers=offer())])).amount == Decimal("12990.00")
    web_page = {"@type": "ItemPage", "mainEntity": product(offers=offer("990"))}
    assert extract(ld(web_page)).amount == Decimal("990.00")


def test_the_page_product_wins_over_related_products_nested_deeper() -> None:
    main = product(
        sku="TL-1001",
        offers=offer("12990"),
        isRelatedTo=[product(sku="TL-1002", offers=offer("14990"))],
    )
    assert extract(ld(main)).sku == "TL-1001"


def test_a_product_with_offers_wins_over_one_without() -> None:
    html = ld({"@type": "ItemList", "itemListElement": [product(sku="X")]}, product(sku="TL-1001", offers=offer()))
    assert extract(html).sku == "TL-1001"


@pytest.mark.parametrize(
    "type_", [["Product", "Thing"], "schema:Product", "http://schema.org/Product", "IndividualProduct", "ProductGroup"]
)
def test_product_type_spellings(type_: Any) -> None:
    assert extract(ld({"@type": type_, "name": "A", "offers": offer()})).amount == Decimal("12990.00")


def test_offers_from_several_sellers_that_differ_give_no_price() -> None:
    html = ld(
        product(
            offers=[
                offer("12990", seller={"name": "МаркетПлюс"}, availability="InStock"),
                offer("10490", seller={"name": "ГлобалТрейд"}, availability="InStock"),
            ]
        )
    )
    found = extract(html)
    assert (found.price, found.amount, found.flag, found.seller_name) == (None, None, FLAG_PRICE_CONFLICT, None)
    assert [(o.seller_name, o.amount) for o in found.offers] == [
        ("МаркетПлюс", Decimal("12990.00")),
        ("ГлобалТрейд", Decimal("10490.00")),
    ]
    assert found.availability is StockState.IN_STOCK


def test_offers_that_agree_give_the_price() -> None:
    found = extract(ld(product(offers=[offer("12990"), offer(12990)])))
    assert (found.amount, found.flag) == (Decimal("12990.00"), None)


def test_offers_with_different_availability_give_unknown() -> None:
    offers = [offer(availability="InStock"), offer(availability="OutOfStock")]
    assert extract(ld(product(offers=offers))).availability is StockState.UNKNOWN


def test_aggregate_offer_range_is_a_lower_bound() -> None:
    aggregate = {"@type": "AggregateOffer", "lowPrice": "9990", "highPrice": "12990", "priceCurrency": "RUB"}
    found = extract(ld(product(offers=aggregate)))
    assert (found.price, found.amount, found.currency, found.flag) == (
        "9990",
        Decimal("9990.00"),
        "RUB",
        FLAG_PRICE_FROM,
    )


def test_aggregate_offer_with_one_price_is_that_price() -> None:
    aggregate = {"@type": "AggregateOffer", "lowPrice": 12990, "highPrice": 12990, "priceCurrency": "RUB"}
    assert (extract(ld(product(offers=aggregate))).amount, extract(ld(product(offers=aggregate))).flag) == (
        Decimal("12990.00"),
        None,
    )


def test_aggregate_offer_with_nested_offers_lists_them() -> None:
    aggregate = {
        "@type": "AggregateOffer",
        "lowPrice": "10490",
        "highPrice": "12990",
        "offers": [offer("12990", seller="МаркетПлюс"), offer("10490", seller="ГлобалТрейд")],
    }
    found = extract(ld(product(offers=aggregate)))
    assert [(o.seller_name, o.price) for o in found.offers] == [("МаркетПлюс", "12990"), ("ГлобалТрейд", "10490")]
    assert found.flag == FLAG_PRICE_CONFLICT


def test_price_specification_is_read() -> None:
    spec = {
        "@type": "Offer",
        "priceSpecification": {"@type": "UnitPriceSpecification", "price": 4590, "priceCurrency": "RUB"},
    }
    found = extract(ld(product(offers=spec)))
    assert (found.amount, found.currency) == (Decimal("4590.00"), "RUB")


@pytest.mark.parametrize(
    ("currency", "price", "expected"),
    [
        *[("RUB", "990", "RUB"), ("RUR", "990", "RUB"), ("rub", "990", "RUB"), ("KZT", "990", "KZT")],
        *[(None, "990 ₽", "RUB"), (None, "990", None), ("руб.", "990", "RUB")],
    ],
)
def test_currency(currency: str | None, price: str, expected: str | None) -> None:
    node = {"@type": "Offer", "price": price} | ({"priceCurrency": currency} if currency else {})
    assert extract(ld(product(offers=node))).currency == expected


@pytest.mark.parametrize("key", ["gtin13", "gtin", "gtin14", "gtin12", "gtin8"])
def test_gtin_under_any_key(key: str) -> None:
    assert extract(ld(product(**{key: "4601234567893"}, offers=offer()))).gtin == "4601234567893"


def test_gtin_and_sku_on_the_offer() -> None:
    found = extract(ld(product(offers=offer(gtin13="4601234567893", sku="TL-1001"))))
    assert (found.gtin, found.sku) == ("4601234567893", "TL-1001")


def test_numeric_sku_and_gtin_become_strings() -> None:
    found = extract(ld(product(sku=1001, gtin13=4601234567893, offers=offer())))
    assert (found.sku, found.gtin) == ("1001", "4601234567893")


@pytest.mark.parametrize(
    "brand", ["Термолайн", {"@type": "Brand", "name": "Термолайн"}, [{"@type": "Brand", "name": "Термолайн"}]]
)
def test_brand_shapes(brand: Any) -> None:
    assert extract(ld(product(brand=brand, offers=offer()))).brand == "Термолайн"


@pytest.mark.parametrize(
    "seller", ["Климатпроф", {"@type": "Organization", "name": "Климатпроф"}, [{"name": "Климатпроф"}]]
)
def test_seller_shapes(seller: Any) -> None:
    assert extract(ld(product(offers=offer(seller=seller)))).seller_name == "Климатпроф"


@pytest.mark.parametrize(
    ("availability", "state"),
    [
        ("https://schema.org/InStock", StockState.IN_STOCK),
        ("http://schema.org/OutOfStock", StockState.OUT_OF_STOCK),
        ("PreOrder", StockState.PREORDER),
        ("https://schema.org/LimitedAvailability", StockState.LOW_STOCK),
        ("В наличии", StockState.IN_STOCK),
        ("Reserved", StockState.UNKNOWN),
        (None, StockState.UNKNOWN),
    ],
)
def test_availability(availability: str | None, state: StockState) -> None:
    node = offer() | ({"availability": availability} if availability else {})
    assert extract(ld(product(offers=node))).availability is state


def test_a_product_without_offers_has_no_price() -> None:
    found = extract(ld(product(sku="TL-1001")))
    assert (found.sku, found.price, found.amount, found.availability, found.offers) == (
        "TL-1001",
        None,
        None,
        StockState.UNKNOWN,
        [],
    )


@pytest.mark.parametrize(
    "block",
    [
        '<!-- {"@type": "Product", "name": "A", "offers": {"price": "990"}} -->',
        '//<![CDATA[\n{"@type": "Product", "name": "A", "offers": {"price": "990"}}\n//]]>',
        '{"@type": "Product", "name": "A", "offers": {"price": "990",},}',
        '{"@type": "Product", "name": "A\nс переносом", "offers": {"price": "990"}}',
    ],
)
def test_sloppy_json_ld_is_read(block: str) -> None:
    assert extract(ld(block)).amount == Decimal("990.00")


@pytest.mark.parametrize(
    "block",
    [
        '{"@type": "Product", "name": ',
        "{'@type': 'Product'}",
        "",
        "null",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "[" * 100_000,
        '{"@type": "Product", "offers": "12990"}',
        '{"@type": "Product", "offers": [1, "x", null]}',
        '{"@type": 5}',
        '{"@type": "Organization", "name": "Климатпроф"}',
    ],
)
def test_malformed_or_foreign_json_ld_does_not_raise(block: str) -> None:
    found = extract_product(ld(block), URL)
    assert found is None or found.amount is None


def test_a_broken_block_does_not_hide_a_good_one() -> None:
    html = ld('{"@type": "Product", "name": ', product(offers=offer("990")))
    assert extract(html).amount == Decimal("990.00")


@pytest.mark.parametrize(
    "attrs",
    [
        "type='application/ld+json'",
        "type=application/ld+json",
        'TYPE="application/LD+JSON"',
        'type="application/ld+json" nonce="abc" id="ld"',
    ],
)
def test_script_tag_spellings(attrs: str) -> None:
    assert extract(ld(product(offers=offer()), attrs=attrs)).amount == Decimal("12990.00")


def test_a_page_without_structured_data_gives_none() -> None:
    assert extract_product("<html><body><h1>Обогреватель</h1><span>12 990 ₽</span></body></html>", URL) is None
    assert extract_product("", URL) is None


MICRODATA = """<html><body>
<div itemscope itemtype="https://schema.org/Product">
  <h1 itemprop="name">Обогреватель Термолайн TL-1001</h1>
  <span itemprop="sku">TL-1001</span><meta itemprop="gtin13" content="4601234567893">
  <div itemprop="brand" itemscope itemtype="https://schema.org/Brand"><span itemprop="name">Термолайн</span></div>
  <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
    <span itemprop="price" content="12990.00">12&nbsp;990&nbsp;₽</span>
    <meta itemprop="priceCurrency" content="RUB">
    <link itemprop="availability" href="https://schema.org/OutOfStock">Нет в наличии
  </div>
</div></body></html>"""

OPEN_GRAPH = """<html><head>
<meta property="og:type" content="product">
<meta property="og:title" content="Обогреватель Термолайн TL-1001">
<meta property="product:brand" content="Термолайн">
<meta property="product:price:amount" content="12990">
<meta property="product:price:currency" content="RUB">
<meta property="product:availability" content="in stock">
</head><body></body></html>"""


def test_microdata_when_there_is_no_json_ld() -> None:
    found = extract(MICRODATA)
    assert (found.source, found.name, found.sku, found.gtin, found.brand) == (
        "microdata",
        "Обогреватель Термолайн TL-1001",
        "TL-1001",
        "4601234567893",
        "Термолайн",
    )
    assert (found.price, found.amount, found.currency, found.availability) == (
        "12990.00",
        Decimal("12990.00"),
        "RUB",
        StockState.OUT_OF_STOCK,
    )


def test_open_graph_when_there_is_nothing_else() -> None:
    found = extract(OPEN_GRAPH)
    assert (found.source, found.name, found.brand, found.amount, found.currency, found.availability) == (
        "opengraph",
        "Обогреватель Термолайн TL-1001",
        "Термолайн",
        Decimal("12990.00"),
        "RUB",
        StockState.IN_STOCK,
    )


def test_json_ld_wins_over_microdata() -> None:
    html = MICRODATA.replace("<body>", "<body>" + ld(product(offers=offer("11990"))))
    assert (extract(html).source, extract(html).amount) == ("json-ld", Decimal("11990.00"))


def test_open_graph_of_an_article_is_no_product() -> None:
    html = '<html><head><meta property="og:type" content="article"><meta property="og:title" content="Новости"></head>'
    assert extract_product(html, URL) is None


@pytest.mark.parametrize(
    ("level", "quantity"),
    [
        ({"@type": "QuantitativeValue", "value": 12}, 12),
        ({"@type": "QuantitativeValue", "value": "5"}, 5),
        (3, 3),
        ("0", 0),
        ([{"value": 4}], 4),
        ({"value": 2.5}, None),  # not whole units
        ({"value": -1}, None),
        ("много", None),
        (None, None),
    ],
)
def test_inventory_level_is_the_quantity_in_stock(level: Any, quantity: int | None) -> None:
    found = extract(ld(product(offers=offer(inventoryLevel=level))))
    assert (found.offers[0].quantity, found.quantity) == (quantity, quantity)


def test_labels_are_taken_off_the_codes() -> None:
    found = extract(ld(product(sku="Артикул: 558812", mpn="Model: GD1850Z", gtin13="EAN: 4601234567893")))
    assert (found.sku, found.mpn, found.gtin) == ("558812", "GD1850Z", "4601234567893")
