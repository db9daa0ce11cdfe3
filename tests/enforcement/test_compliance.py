"""Compliance figures per distributor and day, week and month — from the readings and cases the enforcement step
records — and the BI view `v_compliance`, which must give the same figures for whole weeks and months."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from crawler.items import Health
from storage.engine import session_scope
from storage.models import ComplianceReading
from storage.queries.compliance import ComplianceRow, compliance, percentile
from tests.enforcement.conftest import MakeWorld
from tests.support.builders import Seen, World, day
from tests.support.enforcement import DUMPING, RRP_OK, run_day

MARCH_2 = dt.date(2026, 3, 2)  # day 1, a Monday


def _shop(tl1001: str, tl1002: str = "2000") -> dict[str, list[Seen]]:
    return {
        "shop": [Seen("TL-1001", price=tl1001), Seen("TL-1002", price=tl1002)],
        "shop2": [Seen("TL-1001", price="9600")],  # 4 % below the RRP: within the tolerance, compliant
    }


def _fortnight(world: World) -> None:
    """shop: dumps TL-1001 on day 1 (fixed day 2), TL-1002 on day 3 (fixed day 5, a relapse), TL-1001 again on
    day 7, a Sunday (fixed day 8, the next Monday: a second relapse). shop2 stays compliant throughout."""
    days = {1: (DUMPING, "2000"), 2: (RRP_OK, "2000"), 3: (RRP_OK, "1500"), 4: (RRP_OK, "1500")}
    days |= {5: (RRP_OK, "2000"), 6: (RRP_OK, "2000"), 7: (DUMPING, "2000"), 8: (RRP_OK, "2000")}
    for n, prices in days.items():
        run_day(world, n, _shop(*prices))


def _row(rows: list[ComplianceRow], code: str, start: dt.date) -> ComplianceRow:
    (found,) = [r for r in rows if r.distributor_code == code and r.period_start == start]
    return found


def _figures(row: ComplianceRow) -> tuple[Any, ...]:
    return (
        row.watched_listings,
        row.compliant_listings,
        row.share,
        row.violations_opened,
        row.median_hours_to_fix,
        row.p90_hours_to_fix,
        row.notices_sent,
        row.repeat_offences,
    )


def test_weeks_months_and_days_of_a_seller_that_relapses(make_world: MakeWorld) -> None:
    world = make_world(approval="off")
    _fortnight(world)
    with session_scope(world.engine) as session:
        weeks = compliance(session, start=MARCH_2, end=dt.date(2026, 3, 15), period="week")
        months = compliance(session, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), period="month")
        days = compliance(session, start=MARCH_2, end=dt.date(2026, 3, 3), period="day")
        only_shop2 = compliance(
            session, start=MARCH_2, end=MARCH_2, period="day", distributor_ids=[world.distributors["shop2"]]
        )
    assert [(r.distributor_code, r.period_start) for r in weeks if r.distributor_code == "shop"] == [
        ("shop", MARCH_2),
        ("shop", dt.date(2026, 3, 9)),
    ]
    # Week 1: TL-1001 ends the week dumping (Sunday); fixes took 24 h and 48 h; three first notices, two relapses.
    one = Decimal("1.0000")
    assert _figures(_row(weeks, "shop", MARCH_2)) == (
        2, 1, Decimal("0.5000"), 3, Decimal("36.00"), Decimal("45.60"), 3, 2
    )  # fmt: skip
    assert _figures(_row(weeks, "shop", dt.date(2026, 3, 9))) == (
        2,
        2,
        one,
        0,
        Decimal("24.00"),
        Decimal("24.00"),
        0,
        0,
    )
    assert _figures(_row(weeks, "shop2", MARCH_2)) == (1, 1, one, 0, None, None, 0, 0)
    assert _figures(_row(months, "shop", dt.date(2026, 3, 1))) == (
        2, 2, one, 3, Decimal("24.00"), Decimal("43.20"), 3, 2
    )  # fmt: skip
    assert _figures(_row(days, "shop", MARCH_2)) == (2, 1, Decimal("0.5000"), 1, None, None, 1, 0)
    assert _figures(_row(days, "shop", dt.date(2026, 3, 3))) == (2, 2, one, 0, Decimal("24.00"), Decimal("24.00"), 0, 0)
    assert [r.distributor_code for r in only_shop2] == ["shop2"]
    # Every distributor has a row for every period, with nothing to count where nothing was seen.
    assert _figures(_row(weeks, "grey", MARCH_2)) == (0, 0, None, 0, None, None, 0, 0)


def test_the_first_and_last_period_are_cut_to_the_range(make_world: MakeWorld) -> None:
    world = make_world(approval="off")
    _fortnight(world)
    with session_scope(world.engine) as session:
        # Thursday 5 to Friday 6 March: the relapse of TL-1002 (day 3, Wednesday) falls outside, its fix inside.
        (week,) = [
            r
            for r in compliance(session, start=dt.date(2026, 3, 5), end=dt.date(2026, 3, 6), period="week")
            if r.distributor_code == "shop"
        ]
    assert week.period_start == MARCH_2
    assert _figures(week) == (2, 2, Decimal("1.0000"), 0, Decimal("48.00"), Decimal("48.00"), 0, 0)


def _view(world: World, period: str) -> dict[tuple[str, dt.date], tuple[Any, ...]]:
    with session_scope(world.engine) as session:
        rows = session.execute(
            text(
                "SELECT distributor_code, period_start, watched_listings, compliant_listings, share, "
                "violations_opened, median_hours_to_fix, p90_hours_to_fix, notices_sent, repeat_offences "
                "FROM v_compliance WHERE period = :period"
            ),
            {"period": period},
        ).all()

    def number(value: Any, places: str) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(Decimal(places))

    return {
        (code, start if isinstance(start, dt.date) else dt.date.fromisoformat(start)): (
            watched,
            compliant,
            number(share, "0.0001"),
            opened,
            number(median, "0.01"),
            number(p90, "0.01"),
            sent,
            repeats,
        )
        for code, start, watched, compliant, share, opened, median, p90, sent, repeats in rows
    }


def test_the_bi_view_gives_the_same_figures_for_whole_weeks_and_months(make_world: MakeWorld) -> None:
    world = make_world(approval="off")
    _fortnight(world)
    with session_scope(world.engine) as session:
        weeks = compliance(session, start=MARCH_2, end=dt.date(2026, 3, 15), period="week")
        months = compliance(session, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), period="month")
    for period, rows in (("week", weeks), ("month", months)):
        view = _view(world, period)
        assert sorted(view) == sorted({(r.distributor_code, r.period_start) for r in rows if r.watched_listings})
        assert view == {
            (r.distributor_code, r.period_start): _figures(r)
            for r in rows
            if (r.distributor_code, r.period_start) in view
        }


def test_a_degraded_crawl_records_no_reading(make_world: MakeWorld) -> None:
    world = make_world(approval="off")
    run_day(world, 1, _shop(RRP_OK))
    world.crawl("shop", day(2), [Seen("TL-1001", price="1667"), Seen("TL-1002")], health=Health.DEGRADED)
    run_day(world, 2, {})
    with session_scope(world.engine) as session:
        days = sorted({r.day for r in session.scalars(select(ComplianceReading))})
    assert days == [MARCH_2]


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        (["5"], "5.00", "5.00"),
        (["2", "4"], "3.00", "3.80"),
        (["24", "48", "24"], "24.00", "43.20"),
        (["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"], "5.50", "9.10"),
    ],
)
def test_percentiles_interpolate_between_ranks(values: list[str], median: str | None, p90: str | None) -> None:
    numbers = [Decimal(v) for v in values]
    assert percentile(numbers, Decimal("0.5")) == (None if median is None else Decimal(median))
    assert percentile(numbers, Decimal("0.9")) == (None if p90 is None else Decimal(p90))
