"""Unlisted storefront: a marketplace storefront not on the list whose legal entity (ИНН) is authorised — reported
as such, and not as an unauthorised seller for parallel import."""

from __future__ import annotations

import copy
from typing import Any

from crawler.items import FLAG_BLOCKED, FLAG_NOT_FOUND, Health, StockState
from tests.support.builders import Seen, day, make_config
from tests.support.rules_world import BASE, MakeWorld, evaluate, found, history

OFFICIAL_INN = "7701234507"  # the listed storefront s-1's entity
PARTNER_INN = "7709876506"  # authorised in `legal_entities`, buys from shop
GREY_INN = "7705555501"  # known, not authorised
CONTRACT_INN = "7707777700"  # authorised by a contract in the database only

SECTIONS: dict[str, Any] = {
    "sellers": [{"marketplace": "market", "seller_id": "s-1", "name": "Официальный магазин", "tax_id": OFFICIAL_INN}],
    "legal_entities": [
        {"tax_id": PARTNER_INN, "name": "ООО «Партнёр»", "distributor": "shop"},
        {"tax_id": GREY_INN, "name": "ООО «Серый»", "authorized": False},
    ],
}


def storefront(seller: str, tax_id: str, **seen: Any) -> Seen:
    fields: dict[str, Any] = {"price": "10000", "seller": seller, "seller_name": f"Витрина {seller}"} | seen
    return Seen(fields.pop("vendor_code", "TL-1001"), tax_id=tax_id, legal_name=f"ООО {tax_id}", **fields)


def test_a_second_storefront_of_an_authorised_entity_is_unlisted_not_unauthorized(make_world: MakeWorld) -> None:
    world = make_world(**SECTIONS)
    world.legal_entity(CONTRACT_INN, name="ООО «Договор»", authorized=True)
    offers = [
        storefront("s-7", OFFICIAL_INN),  # the listed s-1's entity
        storefront("s-7", OFFICIAL_INN, vendor_code="TL-1002", price="2000"),
        storefront("s-8", PARTNER_INN),
        storefront("s-5", CONTRACT_INN),
        storefront("s-9", GREY_INN),
        storefront("s-6", "7700000009"),  # an entity nobody knows
    ]
    world.crawl("market", day(1), offers)
    evaluate(world)

    unlisted = found(world, "unlisted_storefront")
    assert sorted(unlisted) == ["market/s-5", "market/s-7", "market/s-8"]
    assert sorted(found(world, "parallel_import")) == ["market/TL-1001/s-6", "market/TL-1001/s-9"]
    alert = unlisted["market/s-7"]
    assert alert.severity == "warning"
    assert alert.fingerprint == "unlisted_storefront:market:s-7"
    assert alert.details | {"urls": None} == {
        "distributor_code": "market",
        "distributor_name": "Market",
        "seller_name": "Витрина s-7",
        "seller_code": "s-7",
        "seller_authorized": True,
        "storefront_listed": False,
        "legal_entity": {"tax_id": OFFICIAL_INN, "ogrn": None, "name": f"ООО {OFFICIAL_INN}"},
        "legal_entity_distributor": None,
        "offers": 2,
        "vendor_codes": ["TL-1001", "TL-1002"],
        "urls": None,
    }
    assert alert.subject == (
        f"Витрина вне списка: Витрина s-7 (s-7) на Market — ООО {OFFICIAL_INN}, ИНН {OFFICIAL_INN}, авторизовано; "
        "витрины нет в списке (2 предл.)"
    )
    assert unlisted["market/s-8"].details["legal_entity_distributor"] == "shop"


def test_dumping_and_other_alerts_call_the_storefront_authorised(make_world: MakeWorld) -> None:
    world = make_world(**SECTIONS)
    world.crawl("market", day(1), [storefront("s-7", OFFICIAL_INN, price="9000")])
    evaluate(world)

    assert found(world, "dumping")["market/TL-1001/s-7"].details["seller_authorized"] is True


def test_it_resolves_when_the_storefront_is_listed(make_world: MakeWorld) -> None:
    world = make_world(**SECTIONS)
    world.crawl("market", day(1), [storefront("s-7", OFFICIAL_INN)])
    evaluate(world)
    listed = copy.deepcopy(BASE) | SECTIONS
    listed["sellers"] = [*SECTIONS["sellers"], {"marketplace": "market", "seller_id": "s-7", "name": "Витрина s-7"}]
    world.config = make_config(listed)
    world.crawl("market", day(2), [storefront("s-7", OFFICIAL_INN)])
    evaluate(world)

    assert history(world, "unlisted_storefront") == [("market/s-7", "opened"), ("market/s-7", "resolved")]
    assert found(world, "parallel_import") == {}


def test_it_resolves_when_the_storefront_no_longer_offers_the_brand_and_holds_while_blocked(
    make_world: MakeWorld,
) -> None:
    world = make_world(**SECTIONS)
    world.crawl("market", day(1), [storefront("s-7", OFFICIAL_INN)])
    evaluate(world)
    blocked = storefront("s-7", OFFICIAL_INN, price=None, stock=StockState.UNKNOWN, flags=(FLAG_BLOCKED,))
    world.crawl("market", day(2), [blocked])
    evaluate(world)
    world.crawl("market", day(3), [storefront("s-7", OFFICIAL_INN, price=None)], health=Health.DEGRADED)
    evaluate(world)
    assert history(world, "unlisted_storefront") == [("market/s-7", "opened")]

    gone = storefront("s-7", OFFICIAL_INN, price=None, stock=StockState.OUT_OF_STOCK, flags=(FLAG_NOT_FOUND,))
    world.crawl("market", day(4), [gone])
    evaluate(world)
    assert history(world, "unlisted_storefront") == [("market/s-7", "opened"), ("market/s-7", "resolved")]


def test_switched_off_the_storefront_is_still_no_unauthorized_seller(make_world: MakeWorld) -> None:
    world = make_world(**SECTIONS, rules={"parallel_import": {"unlisted_storefront": False}})
    world.crawl("market", day(1), [storefront("s-7", OFFICIAL_INN)])
    summary = evaluate(world)

    assert "unlisted_storefront" not in summary.counts
    assert found(world, "parallel_import") == {}


def test_an_entity_listed_by_its_inn_alone_lists_every_storefront_of_it(make_world: MakeWorld) -> None:
    world = make_world(sellers=[{"marketplace": "market", "tax_id": PARTNER_INN, "name": "ООО «Партнёр»"}])
    world.crawl("market", day(1), [storefront("s-7", PARTNER_INN), storefront("s-8", PARTNER_INN)])
    evaluate(world)

    assert found(world, "unlisted_storefront") == {}
    assert found(world, "parallel_import") == {}
