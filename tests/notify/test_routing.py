"""Routing: which events a route wants, one outbox row per (event, channel, recipient), mutes respected."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from crawler.items import Health, StockState
from notify.routing import enqueue_event, enqueue_events
from storage.engine import session_scope
from storage.models import (
    CrawlRun,
    EventKind,
    Listing,
    MatchMethod,
    Mute,
    Observation,
    Outbox,
    OutboxStatus,
    RunStatus,
    Seller,
)

A, B = "1001", "1002"
ROUTES = [
    {"name": "dumping-critical", "match": {"rules": ["dumping"], "severities": ["critical"]}, "telegram": [A]},
    {"name": "techsnab", "match": {"distributors": ["techsnab"]}, "telegram": [B]},
    {"name": "fans", "match": {"categories": ["fans"]}, "email": ["fans@brand.example"]},
    {"name": "digest", "email": ["boss@brand.example"], "mode": "digest"},
]


def test_each_route_filter_and_empty_lists_mean_any(
    engine: Engine, make_config: Any, queue: Any, outbox_rows: Any, dumping_details: dict[str, Any]
) -> None:
    config = make_config(ROUTES)
    queue(engine, config, severity="critical")  # dumping, critical, techsnab, heaters
    queue(engine, config, severity="warning", details={**dumping_details, "distributor_code": "klimatprof"})
    queue(engine, config, rule="stock_out", details={**dumping_details, "category": "fans"})
    rows = [(r.event_id, r.channel, r.recipient, r.mode) for r in outbox_rows(engine)]
    assert rows == [
        (1, "telegram", A, "instant"),
        (1, "telegram", B, "instant"),
        (1, "email", "boss@brand.example", "digest"),
        (2, "email", "boss@brand.example", "digest"),
        (3, "telegram", B, "instant"),
        (3, "email", "fans@brand.example", "instant"),
        (3, "email", "boss@brand.example", "digest"),
    ]
    assert all(r.status == OutboxStatus.PENDING and r.attempts == 0 for r in outbox_rows(engine))


def test_an_event_is_never_queued_twice_for_one_recipient(
    engine: Engine, make_config: Any, add_alert: Any, outbox_rows: Any
) -> None:
    # Two routes name the same chat: one row, and the first route's mode wins.
    config = make_config([{"name": "a", "telegram": [A]}, {"name": "b", "telegram": [A, B], "mode": "digest"}])
    with session_scope(engine) as session:
        alert, event = add_alert(session)
        assert enqueue_event(session, config, alert, event) == 2
        assert enqueue_event(session, config, alert, event) == 0  # a re-run of the rules
    assert [(r.dedup_key, r.mode) for r in outbox_rows(engine)] == [
        (f"{event.id}:telegram:{A}", "instant"),
        (f"{event.id}:telegram:{B}", "digest"),
    ]


def test_ongoing_events_only_go_to_digests(engine: Engine, make_config: Any, queue: Any, outbox_rows: Any) -> None:
    config = make_config([{"name": "now", "telegram": [A]}, {"name": "daily", "telegram": [B], "mode": "digest"}])
    _, queued = queue(engine, config, kind=EventKind.ONGOING)
    assert queued == 1
    assert [(r.recipient, r.mode, r.payload["kind"]) for r in outbox_rows(engine)] == [(B, "digest", "ongoing")]


def test_mutes_by_rule_or_distributor_silence_only_that_chat(
    engine: Engine, make_config: Any, queue: Any, outbox_rows: Any, dumping_details: dict[str, Any]
) -> None:
    config = make_config([{"name": "all", "telegram": [A, B], "email": ["x@brand.example"]}])
    with session_scope(engine) as session:
        session.add_all([Mute(chat_id=A, rule="dumping"), Mute(chat_id=B, distributor_code="klimatprof")])
    queue(engine, config)  # dumping at techsnab: A muted, B not
    queue(engine, config, rule="stock_out", details={**dumping_details, "distributor_code": "klimatprof"})  # B muted
    assert [(r.event_id, r.recipient) for r in outbox_rows(engine)] == [
        (1, B),
        (1, "x@brand.example"),
        (2, A),
        (2, "x@brand.example"),
    ]


def test_the_row_carries_a_snapshot_of_the_event(
    engine: Engine, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    alert_id, _ = queue(engine, make_config(), severity="critical")
    (row,) = outbox_rows(engine)
    assert row.payload["alert_id"] == alert_id
    assert (row.payload["rule"], row.payload["severity"], row.payload["kind"]) == ("dumping", "critical", "opened")
    assert row.payload["details"]["price"] == "10990.00"


def test_a_regional_shortage_matches_any_distributor_it_names(engine: Engine, make_config: Any, queue: Any) -> None:
    config = make_config([{"name": "spb", "match": {"distributors": ["klimatprof"]}, "telegram": [A]}])
    details = {"region": "Москва", "distributors": ["techsnab", "klimatprof"], "vendor_code": "TL-1001"}
    assert queue(engine, config, rule="regional_shortage", details=details)[1] == 1
    other = make_config([{"name": "mp", "match": {"distributors": ["marketplace"]}, "telegram": [A]}])
    assert queue(engine, other, rule="regional_shortage", details=details)[1] == 0


def test_many_events_at_once_are_queued_like_one_by_one(
    engine: Engine, make_config: Any, add_alert: Any, outbox_rows: Any
) -> None:
    config = make_config([{"name": "all", "telegram": [A], "email": ["x@brand.example"]}])
    with session_scope(engine) as session:
        pairs = [add_alert(session, severity="warning") for _ in range(60)]  # 120 rows: more than one statement
        assert enqueue_events(session, config, pairs) == 120
        assert enqueue_events(session, config, pairs) == 0
        alert, event = add_alert(session)
        assert enqueue_event(session, config, alert, event) == 2
    rows = outbox_rows(engine)
    assert len({r.dedup_key for r in rows}) == len(rows) == 122
    assert rows[0].payload["alert_id"] == pairs[0][0].id


def test_a_resolved_event_carries_what_its_listing_shows_now(engine: Engine, make_config: Any, add_alert: Any) -> None:
    day = dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC)
    with session_scope(engine) as s:
        alert, event = add_alert(s, kind=EventKind.RESOLVED)
        seller = Seller(distributor_id=alert.distributor_id, code="techsnab", name="ТехСнаб")
        s.add(seller)
        s.flush()
        listing = Listing(seller_id=seller.id, url="http://techsnab.test/tl-1001", match_method=MatchMethod.VENDOR_CODE)
        s.add(listing)
        s.flush()
        for key, (hours, price, status) in {
            "violating": (0, "10990.00", RunStatus.FINISHED),
            "restored": (24, "12990.00", RunStatus.FINISHED),
            "unfinished": (48, "9990.00", RunStatus.RUNNING),  # not counted: the run did not finish
        }.items():
            run = CrawlRun(
                run_key=key,
                distributor_id=alert.distributor_id,
                started_at=day + dt.timedelta(hours=hours),
                status=status,
                health=Health.OK,
            )
            s.add(run)
            s.flush()
            s.add(
                Observation(
                    listing_id=listing.id,
                    crawl_run_id=run.id,
                    observed_at=day + dt.timedelta(hours=hours),
                    price=Decimal(price),
                    currency="RUB",
                    stock=StockState.IN_STOCK,
                )
            )
        alert.listing_id = listing.id
        assert enqueue_events(s, make_config([{"name": "all", "telegram": [A]}]), [(alert, event)]) == 1
    with session_scope(engine) as s:
        (row,) = s.scalars(select(Outbox))
        details = row.payload["details"]
    assert details["price"] == "10990.00"  # the violation's, as the event recorded it
    assert details["current_price"] == "12990.00"
    assert (details["current_stock"], details["current_currency"]) == ("in_stock", "RUB")
