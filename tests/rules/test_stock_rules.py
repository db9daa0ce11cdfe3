"""Stock-out from healthy runs only, low stock, regional shortage; a broken crawl never looks like a stock-out."""

from __future__ import annotations

from crawler.items import FLAG_BLOCKED, FLAG_NOT_FOUND, Health, StockState
from tests.support.builders import Seen, day
from tests.support.rules_world import MakeWorld, evaluate, found, history

IN, LOW, OUT, UNKNOWN = StockState.IN_STOCK, StockState.LOW_STOCK, StockState.OUT_OF_STOCK, StockState.UNKNOWN


def test_in_stock_then_out_or_delisted_opens_stays_and_resolves_when_back(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000", stock=LOW, quantity=5)])
    world.crawl("shop", day(2), [Seen("TL-1001", stock=OUT), Seen("TL-1002", stock=OUT, flags=(FLAG_NOT_FOUND,))])
    evaluate(world)

    stock_out = found(world, "stock_out")
    assert set(stock_out) == {"shop/TL-1001", "shop/TL-1002"}
    assert stock_out["shop/TL-1001"].details["previous_stock"] == "in_stock"
    assert stock_out["shop/TL-1001"].details["last_in_stock_at"] == day(1).isoformat()
    assert stock_out["shop/TL-1002"].details["delisted"] is True
    assert stock_out["shop/TL-1002"].subject.startswith("Снят с продажи: TL-1002")

    world.crawl("shop", day(3), [Seen("TL-1001", stock=OUT), Seen("TL-1002", stock=OUT, flags=(FLAG_NOT_FOUND,))])
    evaluate(world)  # still out: the alerts go on
    world.crawl("shop", day(4), [Seen("TL-1001", price="10000"), Seen("TL-1002", stock=OUT, flags=(FLAG_NOT_FOUND,))])
    evaluate(world)
    assert history(world, "stock_out") == [
        ("shop/TL-1001", "opened"),
        ("shop/TL-1002", "opened"),
        ("shop/TL-1001", "ongoing"),
        ("shop/TL-1002", "ongoing"),
        ("shop/TL-1002", "ongoing"),  # a run's ongoing events come before its resolutions
        ("shop/TL-1001", "resolved"),
    ]


def test_out_of_stock_from_the_start_or_unknown_never_alerts(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", stock=OUT), Seen("TL-1002", price="2000")])
    world.crawl("shop", day(2), [Seen("TL-1001", stock=OUT), Seen("TL-1002", stock=UNKNOWN, flags=(FLAG_BLOCKED,))])
    evaluate(world)
    assert found(world, "stock_out") == {}


def test_unknown_keeps_an_open_stock_out_as_it_is(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000")])
    world.crawl("shop", day(2), [Seen("TL-1001", stock=OUT)])
    evaluate(world)
    world.crawl("shop", day(3), [Seen("TL-1001", stock=UNKNOWN, flags=(FLAG_BLOCKED,))])
    evaluate(world)
    assert history(world, "stock_out") == [("shop/TL-1001", "opened")]  # neither resolved nor continued


def test_degraded_run_holds_stock_alerts_and_opens_crawler_health_instead(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")])
    world.crawl("shop", day(2), [Seen("TL-1001", price="10000"), Seen("TL-1002", stock=OUT)])
    evaluate(world)
    assert set(found(world, "stock_out")) == {"shop/TL-1002"}

    # The layout changed: everything reads as out of stock, and the run is judged degraded.
    reason = "3 offers against 40 in the last good run; the site's layout has probably changed"
    world.crawl(
        "shop",
        day(3),
        [Seen("TL-1001", stock=OUT), Seen("TL-1002", price="2000")],
        health=Health.DEGRADED,
        reason=reason,
    )
    evaluate(world)
    assert set(found(world, "stock_out")) == {"shop/TL-1002"}  # no new one, the open one kept (not resolved)
    health = found(world, "crawler_health")["shop"]
    assert (health.severity, health.details["health"], health.details["reason"]) == ("warning", "degraded", reason)

    # The next healthy run compares with the last healthy one (day 2): TL-1001 went out since, TL-1002 came back.
    world.crawl("shop", day(4), [Seen("TL-1001", stock=OUT), Seen("TL-1002", price="2000")])
    evaluate(world)
    assert set(found(world, "stock_out")) == {"shop/TL-1001"}
    assert found(world, "crawler_health") == {}
    assert history(world, "crawler_health") == [("shop", "opened"), ("shop", "resolved")]


def test_low_stock_at_or_below_the_threshold(make_world: MakeWorld) -> None:
    world = make_world(rules={"stock_out": {"low_stock_threshold": 2}})
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000", stock=LOW, quantity=2), Seen("TL-1002", quantity=3)])
    world.crawl("shop2", day(1), [Seen("TL-1001", price="10000", stock=OUT, quantity=0)])  # out: not "low"
    evaluate(world)

    low = found(world, "low_stock")
    assert list(low) == ["shop/TL-1001"]
    assert (low["shop/TL-1001"].severity, low["shop/TL-1001"].details["quantity"]) == ("info", 2)
    assert low["shop/TL-1001"].details["threshold"] == 2


def test_regional_shortage_when_enough_distributors_of_a_region_are_out(make_world: MakeWorld) -> None:
    world = make_world(rules={"stock_out": {"regional_shortage_min_distributors": 2}})
    for shop in ("shop", "shop2", "shop3"):
        world.crawl(shop, day(1), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")])
    world.crawl("shop", day(2), [Seen("TL-1001", stock=OUT), Seen("TL-1002", stock=OUT)])
    world.crawl("shop2", day(2), [Seen("TL-1001", stock=OUT, flags=(FLAG_NOT_FOUND,)), Seen("TL-1002", stock=UNKNOWN)])
    world.crawl("shop3", day(2), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")])
    world.crawl("grey", day(2), [Seen("TL-1002", stock=OUT)])  # another region
    evaluate(world)

    shortage = found(world, "regional_shortage")
    assert list(shortage) == ["Москва/TL-1001"]  # TL-1002 is unknown at shop2: not counted as out
    assert shortage["Москва/TL-1001"].details["distributors"] == ["shop", "shop2"]
    assert shortage["Москва/TL-1001"].product_id is not None
