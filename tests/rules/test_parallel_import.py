"""Parallel import: which signals fire — unauthorized seller, foreign markers, a foreign EAN, below dealer price."""

from __future__ import annotations

from crawler.items import FLAG_BLOCKED, FLAG_NOT_FOUND, StockState
from fixtures.pilot.catalog import ean13
from tests.support.builders import Seen, World, day
from tests.support.rules_world import GTIN_1001, MakeWorld, evaluate, found, history


def _signals(world: World, key: str) -> list[str]:
    return [s["signal"] for s in found(world, "parallel_import")[key].details["signals"]]


def test_each_signal_fires_on_its_own_and_is_listed(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl(
        "market",
        day(1),
        [
            Seen("TL-1001", price="10000", seller="s-1", gtin=GTIN_1001),  # authorized, all in order: nothing
            Seen("TL-1001", price="9990", seller="s-9", seller_name="ИмпортМаркет"),  # not on the sellers list
            Seen("TL-1002", price="2000", seller="s-1", markers=("Доставка ИЗ-ЗА РУБЕЖА",)),  # case-insensitive
        ],
    )
    world.crawl("grey", day(1), [Seen("TL-1001", price="10000")])  # a shop that is not an authorized distributor
    world.crawl(
        "shop",
        day(1),
        [Seen("TL-1001", price="10000", gtin=ean13("500000000001"), title="Термолайн TL-1001 Global Version")],
    )
    world.crawl("shop2", day(1), [Seen("TL-1002", price="1300")])  # dealer price 1 400
    evaluate(world)

    assert set(found(world, "parallel_import")) == {
        "market/TL-1001/s-9",
        "market/TL-1002/s-1",
        "grey/TL-1001",
        "shop/TL-1001",
        "shop2/TL-1002",
    }
    assert _signals(world, "market/TL-1001/s-9") == ["unauthorized_seller"]
    assert _signals(world, "market/TL-1002/s-1") == ["foreign_marker"]
    assert _signals(world, "grey/TL-1001") == ["unauthorized_seller"]
    assert _signals(world, "shop/TL-1001") == ["foreign_marker", "foreign_gtin"]
    assert _signals(world, "shop2/TL-1002") == ["below_dealer_price"]
    assert found(world, "parallel_import")["shop/TL-1001"].severity == "critical"  # two signals at once
    alert = found(world, "parallel_import")["shop2/TL-1002"]
    assert (alert.severity, alert.details["price"], alert.details["dealer_price"]) == ("warning", "1300.00", "1400.00")
    marker = found(world, "parallel_import")["market/TL-1002/s-1"].details["signals"][0]["detail"]
    assert "из-за рубежа" in marker


def test_blocked_page_keeps_the_alert_and_a_delisted_offer_ends_it(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("grey", day(1), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")])
    evaluate(world)
    world.crawl(
        "grey",
        day(2),
        [
            Seen("TL-1001", stock=StockState.UNKNOWN, flags=(FLAG_BLOCKED,)),
            Seen("TL-1002", stock=StockState.OUT_OF_STOCK, flags=(FLAG_NOT_FOUND,)),
        ],
    )
    evaluate(world)
    assert list(found(world, "parallel_import")) == ["grey/TL-1001"]
    assert history(world, "parallel_import")[-1] == ("grey/TL-1002", "resolved")


def test_unmatched_offers_are_not_judged(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("market", day(1), [Seen(None, price="100", seller="s-9", markers=("Global version",))])
    evaluate(world)
    assert found(world, "parallel_import") == {}
