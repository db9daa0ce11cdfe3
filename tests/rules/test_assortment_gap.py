"""Assortment gaps: a SKU a distributor should carry (its `assortment` list, or the month's sales plan) that it has
never offered in stock opens a digest alert with the planned quantity and the lost sales; in stock resolves it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from crawler.items import Health, StockState
from storage.engine import session_scope
from storage.models import Outbox
from tests.support.builders import Seen, day
from tests.support.rules_world import BASE, MakeWorld, evaluate, found, history

OUT, PRE = StockState.OUT_OF_STOCK, StockState.PREORDER
MARCH = dt.date(2026, 3, 1)  # the month of day(1); 31 days, so 31 planned units are 1 a day
ROUTES = [
    {"name": "stock", "match": {"rules": ["stock_out"]}, "telegram": ["100"], "mode": "instant"},
    {"name": "digest", "email": ["sales@example.com"], "mode": "digest"},
]


def _with_assortment(*codes: str) -> list[dict[str, Any]]:
    """The base distributors, `shop` expected to carry `codes`."""
    return [{**d, "assortment": list(codes)} if d["code"] == "shop" else d for d in BASE["distributors"]]


def test_a_sku_never_listed_opens_a_gap_with_the_planned_quantity_and_lost_sales(make_world: MakeWorld) -> None:
    world = make_world(distributors=_with_assortment("TL-1001", "tl 1002"), routes=ROUTES)
    world.plan("shop", MARCH, {"TL-1001": 31})
    world.crawl("shop", day(1), [Seen("TL-1002", price="2000")], complete=True)
    evaluate(world)

    [gap] = found(world, "assortment_gap").values()
    assert gap.severity == "info"
    assert gap.subject == (
        "Нет в ассортименте: TL-1001 Термолайн TL-1001 — Магазин, не представлен "
        "(план 31 шт. в месяц, упущено 10 000 ₽)"
    )
    details = gap.details
    assert (details["gap"], details["planned_quantity"], details["gap_days"]) == ("never_listed", 31, 1)
    assert (details["lost_units"], details["lost_sales"], details["rrp"]) == ("1.00", "10000.00", "10000.00")
    with session_scope(world.engine) as session:
        modes = set(session.scalars(select(Outbox.mode).where(Outbox.payload["rule"].as_string() == "assortment_gap")))
    assert modes == {"digest"}  # no instant route names the rule

    world.crawl("shop", day(2), [Seen("TL-1002", price="2000")], complete=True)
    evaluate(world)  # a day more: the lost sales grow
    gap = found(world, "assortment_gap")["shop/TL-1001"]
    assert (gap.details["gap_days"], gap.details["lost_sales"]) == (2, "20000.00")


def test_never_listed_is_judged_only_from_a_complete_ok_crawl(make_world: MakeWorld) -> None:
    world = make_world(distributors=_with_assortment("TL-1001"))
    world.crawl("shop", day(1), [Seen("TL-1002", price="2000")])  # limited or partial: it may not have reached it
    evaluate(world)
    world.crawl("shop", day(2), [Seen("TL-1002", price="2000")], complete=True, health=Health.DEGRADED)
    evaluate(world)
    assert history(world, "assortment_gap") == []


def test_out_of_stock_at_first_sight_is_a_gap_resolved_once_in_stock_then_a_stock_out(make_world: MakeWorld) -> None:
    world = make_world(rules={"assortment_gap": {"from_sales_plan": True}})
    world.plan("shop", MARCH, {"TL-1001": 62, "TL-1002": 31})
    world.crawl("shop", day(1), [Seen("TL-1001", stock=OUT), Seen("TL-1002", stock=PRE)])
    evaluate(world)
    gaps = found(world, "assortment_gap")
    assert set(gaps) == {"shop/TL-1001", "shop/TL-1002"}  # out of stock, pre-order: neither offered in stock
    assert (gaps["shop/TL-1001"].details["gap"], gaps["shop/TL-1001"].details["lost_sales"]) == (
        "not_in_stock",
        "20000.00",
    )
    assert gaps["shop/TL-1002"].details["stock"] == "preorder"

    world.crawl("shop", day(2), [Seen("TL-1001", price="10000"), Seen("TL-1002", stock=PRE)])
    evaluate(world)
    world.crawl("shop", day(3), [Seen("TL-1001", stock=OUT), Seen("TL-1002", stock=PRE)])
    evaluate(world)
    assert history(world, "assortment_gap") == [
        ("shop/TL-1001", "opened"),
        ("shop/TL-1002", "opened"),
        ("shop/TL-1002", "ongoing"),
        ("shop/TL-1001", "resolved"),
        ("shop/TL-1002", "ongoing"),
    ]
    assert history(world, "stock_out") == [("shop/TL-1001", "opened")]  # out again after being in stock


def test_the_sales_plan_counts_only_when_asked_for(make_world: MakeWorld) -> None:
    world = make_world()
    world.plan("shop", MARCH, {"TL-1001": 31})
    world.crawl("shop", day(1), [Seen("TL-1001", stock=OUT)], complete=True)
    evaluate(world)
    assert history(world, "assortment_gap") == []
