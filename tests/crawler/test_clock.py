"""The clock pricewatch stores times by: the machine's, or moved by whole days for the demo's consecutive dates."""

from __future__ import annotations

import datetime as dt

import pytest

from crawler import clock
from storage import models


def test_unset_the_clock_is_the_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(clock.SHIFT_ENV, raising=False)
    before = dt.datetime.now(dt.UTC)
    now = clock.utcnow()
    assert before <= now <= dt.datetime.now(dt.UTC)
    assert clock.shift() == dt.timedelta(0)


def test_a_shift_moves_every_stored_time_by_whole_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.SHIFT_ENV, "-3")
    machine = dt.datetime.now(dt.UTC)
    for now in (clock.utcnow(), models.utcnow()):  # the default of every time column
        assert dt.timedelta(days=3) - dt.timedelta(seconds=5) < machine - now <= dt.timedelta(days=3)
    assert abs(clock.machine_time(clock.utcnow()) - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_a_shift_that_is_no_whole_number_of_days_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.SHIFT_ENV, "yesterday")
    with pytest.raises(ValueError, match="PRICEWATCH_CLOCK_SHIFT_DAYS: expected a whole number of days"):
        clock.utcnow()
