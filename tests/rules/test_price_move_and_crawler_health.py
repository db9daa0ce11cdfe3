"""Price moves between a distributor's runs; crawler health; a failed run changes nothing else."""

from __future__ import annotations

from crawler.items import FLAG_PRICE_MISSING, Health, StockState
from storage.models import RunStatus
from tests.support.builders import Seen, day
from tests.support.rules_world import MakeWorld, evaluate, found, history


def test_price_move_over_the_threshold_since_the_previous_run(make_world: MakeWorld) -> None:
    world = make_world(rules={"price_move": {"threshold_pct": 20}})
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")])
    world.crawl("shop", day(2), [Seen("TL-1001", price="12500"), Seen("TL-1002", price="2400")])  # +25 %, +20 %
    evaluate(world)

    moves = found(world, "price_move")
    assert list(moves) == ["shop/TL-1001"]
    details = moves["shop/TL-1001"].details
    assert (details["previous_price"], details["price"], details["change_pct"]) == ("10000.00", "12500.00", "25.00")
    assert moves["shop/TL-1001"].severity == "info"
    assert moves["shop/TL-1001"].subject.endswith("— Магазин: 10 000 ₽ → 12 500 ₽ (+25 %)")

    world.crawl("shop", day(3), [Seen("TL-1001", price="12500"), Seen("TL-1002", price="2400")])
    evaluate(world)
    assert found(world, "price_move") == {}  # no move since day 2: it ended


def test_failed_run_alerts_the_admin_and_leaves_every_other_alert_as_it_was(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")])
    world.crawl("shop", day(2), [Seen("TL-1001", price="9000"), Seen("TL-1002", stock=StockState.OUT_OF_STOCK)])
    evaluate(world)
    before = history(world)

    world.crawl(
        "shop",
        day(3),
        [Seen("TL-1001", price="10000")],
        status=RunStatus.FAILED,
        reason="the site could not be reached",
    )
    evaluate(world)
    health = found(world, "crawler_health")["shop"]
    assert (health.severity, health.details["health"]) == ("critical", "failed")
    assert health.details["reason"] == "the site could not be reached"
    assert history(world) == [*before, ("shop", "opened")]  # nothing else happened: no event, no resolution


def test_degraded_run_neither_opens_nor_resolves_dumping_falsely(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="9000")])
    evaluate(world)
    # The price selector broke: no price on most pages.
    world.crawl(
        "shop",
        day(2),
        [Seen("TL-1001", price=None, flags=(FLAG_PRICE_MISSING,))],
        health=Health.DEGRADED,
        reason="no price on most product pages",
    )
    evaluate(world)
    assert list(found(world, "dumping")) == ["shop/TL-1001"]
    assert history(world) == [("shop/TL-1001", "opened"), ("shop", "opened")]
