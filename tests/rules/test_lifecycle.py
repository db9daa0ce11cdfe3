"""The alert lifecycle: opened → ongoing → resolved, each event queued once; idempotent, atomic, one at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.config import Config
from notify.routing import enqueue_events
from pricewatch.alerting import run_rules_and_queue
from rules.engine import run_rules
from storage.engine import make_engine, session_scope
from storage.models import Alert, AlertEvent, EventKind, RulesRun
from tests.support.builders import Seen, World, day, make_config
from tests.support.rules_world import BASE, MakeWorld, evaluate, found, history, outbox_keys

ROUTES = [
    {"name": "dumping", "match": {"rules": ["dumping"]}, "telegram": ["100"], "mode": "instant"},
    {"name": "digest", "email": ["boss@example.com"], "mode": "digest"},
]


def _count(world: World, model: Any) -> int:
    with session_scope(world.engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_opened_then_ongoing_then_resolved_with_snapshots_and_messages(make_world: MakeWorld) -> None:
    world = make_world(routes=ROUTES)
    world.crawl("shop", day(1), [Seen("TL-1001", price="9000")])
    summary = evaluate(world)
    assert summary.counts["dumping"][EventKind.OPENED] == 1
    alert = found(world, "dumping")["shop/TL-1001"]

    world.crawl("shop", day(2), [Seen("TL-1001", price="8000")])  # deeper: now critical
    evaluate(world)
    world.crawl("shop", day(3), [Seen("TL-1001", price="9600")])  # −4 %: over (and +20 %: no price move)
    summary = evaluate(world)
    assert summary.counts["dumping"][EventKind.RESOLVED] == 1

    assert history(world, "dumping") == [
        ("shop/TL-1001", "opened"),
        ("shop/TL-1001", "ongoing"),
        ("shop/TL-1001", "resolved"),
    ]
    with session_scope(world.engine) as session:
        events = list(
            session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id))
        )
        runs = list(session.scalars(select(RulesRun).order_by(RulesRun.id)))
    # Each event carries what the alert said then.
    assert [(e.payload["severity"], e.payload["details"]["price"]) for e in events] == [
        ("warning", "9000.00"),
        ("critical", "8000.00"),
        ("critical", "8000.00"),
    ]
    assert events[0].payload["subject"].startswith("Демпинг: TL-1001")
    assert [(r.opened, r.ongoing, r.resolved) for r in runs] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    resolved = found(world, "dumping", status=None)["shop/TL-1001"]
    assert (resolved.seen_count, resolved.resolved_at is not None) == (2, True)
    # Instant Telegram for opened and resolved (not for ongoing); the digest gets all three.
    ids = [e.id for e in events]
    assert sorted(outbox_keys(world)) == sorted(
        [f"{ids[0]}:telegram:100", f"{ids[2]}:telegram:100"] + [f"{i}:email:boss@example.com" for i in ids]
    )


def test_a_second_run_over_the_same_crawls_changes_and_queues_nothing(make_world: MakeWorld) -> None:
    world = make_world(routes=ROUTES)
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")])
    evaluate(world)
    world.crawl("shop", day(2), [Seen("TL-1001", price="9000"), Seen("TL-1002", price="2000")])
    first = evaluate(world)
    events, queued = _count(world, AlertEvent), outbox_keys(world)
    assert first.new_crawl_runs
    assert first.queued == len(queued) == 2

    again = evaluate(world)
    assert (again.new_crawl_runs, again.queued) == ([], 0)
    assert all(sum(c.values()) == 0 for c in again.counts.values())
    assert (_count(world, AlertEvent), outbox_keys(world)) == (events, queued)
    assert _count(world, RulesRun) == 3


def test_two_runs_at_once_open_each_alert_once(make_world: MakeWorld, db_url: str) -> None:
    world = make_world(routes=ROUTES)
    world.crawl("shop", day(1), [Seen("TL-1001", price="9000"), Seen("TL-1002", price="1000")])
    world.crawl("market", day(1), [Seen("TL-1001", price="9000", seller="s-7")])
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        engine = make_engine(db_url)
        try:
            barrier.wait()
            with session_scope(engine) as session:
                run_rules_and_queue(session, world.config)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(history(world)) == [
        ("market/TL-1001/s-7", "opened"),  # dumping
        ("market/TL-1001/s-7", "opened"),  # parallel import: an unauthorized seller
        ("shop/TL-1001", "opened"),
        ("shop/TL-1002", "opened"),  # dumping
        ("shop/TL-1002", "opened"),  # parallel import: below the dealer price
    ]
    assert len(outbox_keys(world)) == len(set(outbox_keys(world))) == 3 + 5  # telegram (dumping) + digest
    assert _count(world, RulesRun) == 2


def test_a_run_that_fails_part_way_leaves_nothing_behind(make_world: MakeWorld) -> None:
    world = make_world(routes=ROUTES)
    world.crawl("shop", day(1), [Seen("TL-1001", price="9000"), Seen("TL-1002", price="1000")])

    def queue_half_then_die(session: Session, config: Config, pairs: Iterable[tuple[Alert, AlertEvent]]) -> int:
        pairs = list(pairs)
        assert enqueue_events(session, config, pairs[: len(pairs) // 2]) > 0
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"), session_scope(world.engine) as session:
        run_rules_and_queue(session, world.config, enqueue=queue_half_then_die)
    assert (_count(world, RulesRun), _count(world, AlertEvent), outbox_keys(world)) == (0, 0, [])
    assert found(world, "dumping") == {}

    evaluate(world)  # and the next run does it all
    assert len(found(world, "dumping")) == 2


def test_a_disabled_rule_leaves_its_alerts_alone(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="9000")])
    evaluate(world)
    world.config = make_config(BASE | {"rules": {"dumping": {"enabled": False}}})
    world.crawl("shop", day(2), [Seen("TL-1001", price="10000")])
    summary = evaluate(world)
    assert "dumping" not in summary.counts
    assert list(found(world, "dumping")) == ["shop/TL-1001"]


def test_the_engine_returns_its_events_and_queues_none_itself(make_world: MakeWorld) -> None:
    world = make_world(routes=ROUTES)
    world.crawl("shop", day(1), [Seen("TL-1001", price="9000")])
    with session_scope(world.engine) as session:
        summary = run_rules(session, world.config)
        returned = [(alert.fingerprint, event.kind) for alert, event in summary.events]
    assert (summary.queued, outbox_keys(world)) == (0, [])
    assert returned == [(alert.fingerprint, EventKind.OPENED) for alert in found(world, "dumping").values()]
