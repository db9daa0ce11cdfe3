"""Platform discount: the shown or card price below the threshold while the seller's own price is not — info."""

from __future__ import annotations

from typing import Any

import pytest

from crawler.items import FLAG_BLOCKED, Health, StockState
from tests.support.builders import Seen, day
from tests.support.rules_world import MakeWorld, evaluate, found, history

OFFICIAL = {"seller": "s-1", "seller_name": "Официальный магазин"}


def test_a_discounted_shown_price_opens_an_info_alert_with_both_prices(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("market", day(1), [Seen("TL-1001", price="9000", seller_price="9600", region="spb", **OFFICIAL)])
    evaluate(world)

    alert = found(world, "platform_discount")["market/TL-1001/s-1"]
    assert alert.severity == "info"
    assert alert.subject == (
        "Скидка площадки: TL-1001 Термолайн TL-1001 — Официальный магазин: продавец 9 600 ₽, "
        "на витрине 9 000 ₽ при РРЦ 10 000 ₽"
    )
    d = alert.details
    assert {k: d[k] for k in ("price", "price_basis", "shown_price", "seller_price", "card_price")} == {
        "price": "9600.00",
        "price_basis": "seller",
        "shown_price": "9000.00",
        "seller_price": "9600.00",
        "card_price": None,
    }
    assert (d["discounted_price"], d["discounted_by"], d["deviation_pct"]) == ("9000.00", "shown", "-10.00")
    assert (d["threshold_price"], d["rrp"], d["region"], d["seller_authorized"]) == ("9500.00", "10000.00", "spb", True)


def test_a_card_price_below_the_threshold_is_a_platform_discount_too(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("market", day(1), [Seen("TL-1001", price="9700", seller_price="9800", card_price="9200", **OFFICIAL)])
    evaluate(world)

    alert = found(world, "platform_discount")["market/TL-1001/s-1"]
    assert (alert.details["discounted_price"], alert.details["discounted_by"]) == ("9200.00", "card")
    assert found(world, "dumping") == {}


def test_it_resolves_when_the_shown_price_recovers(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("market", day(1), [Seen("TL-1001", price="9000", seller_price="9600", **OFFICIAL)])
    evaluate(world)
    world.crawl("market", day(2), [Seen("TL-1001", price="9550", seller_price="9600", **OFFICIAL)])
    evaluate(world)

    assert history(world, "platform_discount") == [("market/TL-1001/s-1", "opened"), ("market/TL-1001/s-1", "resolved")]


def test_an_unknown_reading_or_a_degraded_run_keeps_it_open(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("market", day(1), [Seen("TL-1001", price="9000", seller_price="9600", **OFFICIAL)])
    evaluate(world)
    blocked = Seen("TL-1001", stock=StockState.UNKNOWN, flags=(FLAG_BLOCKED,), **OFFICIAL)
    world.crawl("market", day(2), [blocked])
    evaluate(world)
    recovered = Seen("TL-1001", price="9600", seller_price="9600", **OFFICIAL)
    world.crawl("market", day(3), [recovered], health=Health.DEGRADED, reason="half the pages failed")
    evaluate(world)
    assert list(found(world, "platform_discount")) == ["market/TL-1001/s-1"]
    assert history(world, "platform_discount") == [("market/TL-1001/s-1", "opened")]

    world.crawl("market", day(4), [recovered])
    evaluate(world)
    assert found(world, "platform_discount") == {}


@pytest.mark.parametrize("rules", [{"platform_discount": {"enabled": False}}, {"dumping": {"enabled": False}}])
def test_off_with_its_switch_or_with_dumping(make_world: MakeWorld, rules: dict[str, Any]) -> None:
    world = make_world(rules=rules)
    world.crawl("market", day(1), [Seen("TL-1001", price="9000", seller_price="9600", **OFFICIAL)])
    summary = evaluate(world)
    assert "platform_discount" not in summary.counts
    assert found(world, "platform_discount") == {}
