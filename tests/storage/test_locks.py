"""The run lock: one holder at a time, freed on exit, taken over from a dead holder."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, insert, select

from storage.locks import LockBusy, exclusive
from storage.models import RunLock


def test_second_holder_is_refused_while_the_first_holds(engine: Engine) -> None:
    with exclusive(engine, "daily"):
        with pytest.raises(LockBusy), exclusive(engine, "daily"):
            pass
        with exclusive(engine, "other"):
            pass


def test_lock_is_free_again_after_the_block(engine: Engine) -> None:
    with exclusive(engine, "daily"):
        pass
    with exclusive(engine, "daily"):
        pass


def test_lock_row_of_a_dead_process_is_taken_over(sqlite_url: str) -> None:
    from storage.engine import make_engine

    eng = make_engine(sqlite_url)
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    with eng.begin() as conn:
        conn.execute(
            insert(RunLock).values(name="daily", holder="ghost-host:1", acquired_at=long_ago, heartbeat_at=long_ago)
        )
    with exclusive(eng, "daily"), eng.connect() as conn:
        holder = conn.execute(select(RunLock.holder).where(RunLock.name == "daily")).scalar_one()
        assert holder != "ghost-host:1"
    eng.dispose()
