"""The pilot's two days, from the fixtures' ground truth: `rules run` after each day gives exactly the expected
alert events (fixtures/pilot/scenario.py) with pilot.yaml's thresholds."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from crawler.config import load_config
from fixtures.pilot.files import PRICE_LIST_CSV
from fixtures.pilot.scenario import DAYS, SITES, expected_alerts
from storage.engine import session_scope
from storage.models import Alert, AlertEvent
from tests.support.builders import World, day, pilot_seen
from tests.support.rules_world import evaluate
from tests.support.services import REPO


def _events_of(engine: Engine, rules_run_id: int) -> set[tuple[str, str, str, str, str]]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(Alert, AlertEvent.kind)
            .join(Alert, Alert.id == AlertEvent.alert_id)
            .where(AlertEvent.rules_run_id == rules_run_id)
        )
        return {
            (a.rule, a.details["distributor_code"], a.details["vendor_code"], a.details["seller_code"], kind.value)
            for a, kind in rows.tuples()
        }


@pytest.mark.parametrize("until", DAYS)
def test_each_pilot_day_gives_exactly_the_expected_alerts(engine: Engine, until: int) -> None:
    world = World(engine, load_config(REPO / "pilot.yaml"))
    world.import_catalog(PRICE_LIST_CSV, valid_from=dt.date(2026, 3, 1))
    for n in range(1, until + 1):
        for hour, site in enumerate(SITES):
            world.crawl(site, day(n, hours=hour), pilot_seen(site, n))
        summary = evaluate(world)

    expected = expected_alerts(until)
    assert _events_of(engine, summary.rules_run_id) == {
        (e.rule, e.distributor, e.vendor_code, e.seller, e.event.value) for e in expected
    }
    with session_scope(engine) as session:
        latest = {
            (a.rule, a.details["vendor_code"], a.details["seller_code"]): a for a in session.scalars(select(Alert))
        }
    for e in expected:
        alert = latest[(e.rule, e.vendor_code, e.seller)]
        if e.severity:
            assert alert.severity == e.severity, e
        if e.signals:
            assert tuple(s["signal"] for s in alert.details["signals"]) == e.signals, e
