"""Routing: which events a route wants, one outbox row per (event, channel, recipient), mutes respected."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from notify.routing import enqueue_event, enqueue_events
from storage.engine import session_scope
from storage.models import EventKind, Mute, OutboxStatus

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
