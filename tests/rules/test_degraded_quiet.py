"""Degraded means quiet: from a run that cannot be believed no rule opens or resolves anything but crawler health;
open alerts stay open and the next ok run is judged normally. A suspect price is no price for any rule."""

from __future__ import annotations

import pytest

from crawler.items import FLAG_PRICE_SUSPECT, Health, StockState
from rules import crawler_health
from rules.base import OnBadRun
from rules.engine import RULES
from storage.models import RunStatus
from tests.support.builders import Seen, day
from tests.support.rules_world import MakeWorld, evaluate, found, history

CANARY_MISREAD = "layout changed: the canary page https://shop.test/canary shows price 1667 instead of the known 10000"


@pytest.mark.parametrize("verdict", [Health.DEGRADED, Health.FAILED])
def test_every_rule_but_crawler_health_holds_on_a_run_not_ok(verdict: Health) -> None:
    acting = {rule.name for rule in RULES if rule.on(verdict) != OnBadRun.HOLD}
    assert acting == {crawler_health.NAME}


def test_a_degraded_run_with_the_price_misread_opens_no_dumping_or_price_move_and_keeps_what_is_open(
    make_world: MakeWorld,
) -> None:
    world = make_world()
    # Day 1-2: TL-1001 dumps (8 000 against an RRP of 10 000), TL-1002 jumps by 30 %; the grey shop dumps too.
    world.crawl("shop", day(1), [Seen("TL-1001", price="8000"), Seen("TL-1002", price="2000")])
    world.crawl("shop", day(2), [Seen("TL-1001", price="8000"), Seen("TL-1002", price="2600")])
    evaluate(world)
    before = history(world)
    assert set(before) == {("shop/TL-1001", "opened"), ("shop/TL-1002", "opened")}

    # Day 3: the selector reads a monthly instalment on every page; the canary proves it and the run is degraded.
    misread = [Seen("TL-1001", price="1667"), Seen("TL-1002", price="433")]
    world.crawl("shop", day(3), misread, health=Health.DEGRADED, reason=CANARY_MISREAD)
    evaluate(world)
    assert history(world) == [*before, ("shop", "opened")]  # the admin hears of it; nothing else happens
    health = found(world, "crawler_health")["shop"]
    assert (health.details["health"], health.details["reason"]) == ("degraded", CANARY_MISREAD)
    assert set(found(world, "dumping")) == {"shop/TL-1001"}  # open, as it was
    assert set(found(world, "price_move")) == {"shop/TL-1002"}
    assert found(world, "dumping")["shop/TL-1001"].details["price"] == "8000.00"  # not rewritten by the misread

    # Day 4: read right again. Judged against day 2, not the misread: the dumping goes on, TL-1002 did not move.
    world.crawl("shop", day(4), [Seen("TL-1001", price="8000"), Seen("TL-1002", price="2600")])
    evaluate(world)
    assert history(world)[len(before) + 1 :] == [
        ("shop", "resolved"),
        ("shop/TL-1001", "ongoing"),
        ("shop/TL-1002", "resolved"),
    ]


def test_a_degraded_run_resolves_nothing_even_where_its_readings_would(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")])
    world.crawl(
        "shop",
        day(2),
        [Seen("TL-1001", price="8000"), Seen("TL-1002", stock=StockState.OUT_OF_STOCK)],
    )
    world.crawl("grey", day(2), [Seen("TL-1001", price="10000", markers=("глобальная версия",))])
    evaluate(world)
    open_before = {rule: set(found(world, rule)) for rule in ("dumping", "stock_out", "parallel_import")}
    assert all(open_before.values())

    # A degraded day whose readings say every problem is gone: nothing resolves.
    world.crawl(
        "shop",
        day(3),
        [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")],
        health=Health.DEGRADED,
        reason="blocked by anti-bot: 12 of 20 product pages blocked (anti-bot page, captcha or 403)",
    )
    world.crawl("grey", day(3), [Seen("TL-1001", price="10000")], health=Health.DEGRADED, reason="mass 404: …")
    evaluate(world)
    assert {rule: set(found(world, rule)) for rule in open_before} == open_before
    assert set(found(world, "crawler_health")) == {"shop", "grey"}


def test_a_failed_run_is_as_quiet(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000")])
    evaluate(world)
    world.crawl("shop", day(2), [Seen("TL-1001", price="5000")], status=RunStatus.FAILED, reason="site down")
    evaluate(world)
    assert history(world) == [("shop", "opened")]


def test_a_suspect_price_is_never_a_dumping_a_price_move_or_below_the_dealer_price(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="1800")])
    evaluate(world)
    dumping_before = set(found(world, "dumping"))
    assert dumping_before == {"shop/TL-1002"}  # 1 800 against 2 000: a real dumping

    # A «1 ₽» placeholder and an instalment, both flagged suspect by the crawl: in an ok run, they say nothing.
    suspect = (FLAG_PRICE_SUSPECT,)
    world.crawl(
        "shop", day(2), [Seen("TL-1001", price="1", flags=suspect), Seen("TL-1002", price="167", flags=suspect)]
    )
    evaluate(world)
    assert set(found(world, "dumping")) == dumping_before  # no new one; the open one is kept (its price unknown)
    assert found(world, "price_move") == {}
    assert found(world, "parallel_import") == {}

    # The next firm price is compared with the last firm one, not with the suspect reading.
    world.crawl("shop", day(3), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")])
    evaluate(world)
    assert found(world, "price_move") == {}
    assert found(world, "dumping") == {}
