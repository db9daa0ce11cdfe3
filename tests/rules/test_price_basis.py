"""Dumping judges the basis price: the seller's own (default), the shown or the card price, per marketplace."""

from __future__ import annotations

from tests.support.builders import Seen, day
from tests.support.rules_world import MakeWorld, distributors, evaluate, found, history

OFFICIAL = {"seller": "s-1", "seller_name": "Официальный магазин"}


def test_a_shown_price_discounted_by_the_platform_is_no_dumping_at_the_seller_basis(make_world: MakeWorld) -> None:
    world = make_world()
    # RRP 10 000, threshold 9 500: the seller asks 9 600, the platform shows 9 000.
    world.crawl("market", day(1), [Seen("TL-1001", price="9000", seller_price="9600", **OFFICIAL)])
    evaluate(world)

    assert found(world, "dumping") == {}
    assert list(found(world, "platform_discount")) == ["market/TL-1001/s-1"]


def test_the_seller_price_below_the_threshold_is_dumping_with_every_price_in_its_details(
    make_world: MakeWorld,
) -> None:
    world = make_world()
    seen = Seen(
        "TL-1001",
        price="8500",
        seller_price="9000",
        card_price="8300",
        region="msk",
        tax_id="7701234507",
        legal_name="ООО «Термо»",
        ogrn="1027700000001",
        **OFFICIAL,
    )
    world.crawl("market", day(1), [seen])
    evaluate(world)

    assert found(world, "platform_discount") == {}
    alert = found(world, "dumping")["market/TL-1001/s-1"]
    assert {k: alert.details[k] for k in ("price", "price_basis", "shown_price", "seller_price", "card_price")} == {
        "price": "9000.00",
        "price_basis": "seller",
        "shown_price": "8500.00",
        "seller_price": "9000.00",
        "card_price": "8300.00",
    }
    assert alert.details["deviation_pct"] == "-10.00"  # the seller's price against the RRP
    assert alert.details["region"] == "msk"
    assert alert.details["legal_entity"] == {"tax_id": "7701234507", "ogrn": "1027700000001", "name": "ООО «Термо»"}
    assert alert.details["seller_authorized"] is True
    assert alert.subject == "Демпинг: TL-1001 Термолайн TL-1001 — Официальный магазин: 9 000 ₽ при РРЦ 10 000 ₽ (−10 %)"


def test_a_marketplace_on_the_shown_basis_dumps_on_the_shown_price(make_world: MakeWorld) -> None:
    world = make_world(distributors=distributors(price_basis="shown"))
    world.crawl("market", day(1), [Seen("TL-1001", price="9000", seller_price="9600", **OFFICIAL)])
    evaluate(world)

    alert = found(world, "dumping")["market/TL-1001/s-1"]
    assert (alert.details["price"], alert.details["price_basis"]) == ("9000.00", "shown")
    assert found(world, "platform_discount") == {}


def test_the_card_basis_judges_the_card_price_or_the_shown_one_without_a_card_price(make_world: MakeWorld) -> None:
    world = make_world(rules={"dumping": {"price_basis": "card"}})
    offers = [
        Seen("TL-1001", price="9600", seller_price="9800", card_price="9000", **OFFICIAL),
        Seen("TL-1002", price="1850", seller_price="1990", **OFFICIAL),  # no card price: the shown one
    ]
    world.crawl("market", day(1), offers)
    evaluate(world)

    prices = {key: (a.details["price"], a.details["price_basis"]) for key, a in found(world, "dumping").items()}
    assert prices == {"market/TL-1001/s-1": ("9000.00", "card"), "market/TL-1002/s-1": ("1850.00", "card")}


def test_a_shop_has_one_price_and_dumps_on_it_as_before(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="9400"), Seen("TL-1002", price="1900")])
    evaluate(world)

    alert = found(world, "dumping")["shop/TL-1001"]
    assert {k: alert.details[k] for k in ("price", "price_basis", "shown_price", "seller_price", "card_price")} == {
        "price": "9400.00",
        "price_basis": "seller",
        "shown_price": "9400.00",
        "seller_price": None,
        "card_price": None,
    }
    assert (alert.details["region"], alert.details["legal_entity"]) == (None, None)
    assert found(world, "platform_discount") == {}


def test_days_in_violation_count_the_basis_price_not_the_discounted_one(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("market", day(1), [Seen("TL-1001", price="9000", seller_price="9600", **OFFICIAL)])
    evaluate(world)
    world.crawl("market", day(2), [Seen("TL-1001", price="8500", seller_price="9000", **OFFICIAL)])
    evaluate(world)
    world.crawl("market", day(3), [Seen("TL-1001", price="8500", seller_price="9000", **OFFICIAL)])
    evaluate(world)

    alert = found(world, "dumping")["market/TL-1001/s-1"]
    assert alert.details["days_in_violation"] == 2  # days 2 and 3: on day 1 only the shown price was below
    assert history(world, "platform_discount") == [
        ("market/TL-1001/s-1", "opened"),
        ("market/TL-1001/s-1", "resolved"),  # the seller's own price fell: dumping instead
    ]
