"""Revision 0007 on SQLite and PostgreSQL: `observations.price_suspect` and `v_latest_offers.price_suspect` added to a
database with data (its rows not suspect, the view's other columns as they were), and taken back by the downgrade."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from storage.engine import make_engine
from storage.migrate import alembic_config, upgrade
from tests.support.services import pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database without a schema yet."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    with pg_database("pw_migration") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _seed(engine: Engine) -> None:
    """One observation of one listing in a finished run, as revision 0006 stores it."""
    at = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO distributors (id, code, name, kind, authorized) VALUES (1, 'shop', 'Shop', "
                "'distributor', true)"
            )
        )
        conn.execute(
            text("INSERT INTO sellers (id, distributor_id, code, name, authorized) VALUES (1, 1, 'shop', 'Shop', true)")
        )
        conn.execute(
            text(
                "INSERT INTO listings (id, seller_id, url, match_method, match_confidence, first_seen_at, last_seen_at)"
                " VALUES (1, 1, 'http://shop.test/1', 'none', 0, :at, :at)"
            ),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO crawl_runs (id, distributor_id, run_key, status, started_at, pages, offers, errors, stats)"
                " VALUES (1, 1, 'run-1', 'finished', :at, 1, 1, 0, '{}')"
            ),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO observations (id, listing_id, crawl_run_id, observed_at, price, stock, flags, details)"
                " VALUES (1, 1, 1, :at, 1.00, 'in_stock', '[]', '{}')"
            ),
            {"at": at},
        )


def _columns(engine: Engine, table: str) -> list[str]:
    with engine.connect() as conn:
        return [c["name"] for c in inspect(conn).get_columns(table)]


def test_0007_adds_the_suspect_flag_to_a_database_with_data_and_the_downgrade_takes_it_back(
    empty_engine: Engine,
) -> None:
    upgrade(empty_engine, "0006")
    _seed(empty_engine)
    view_0006 = _columns(empty_engine, "v_latest_offers")

    upgrade(empty_engine, "0007")
    assert _columns(empty_engine, "v_latest_offers") == [*view_0006, "price_suspect"]
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT price_suspect FROM observations")).scalar_one() in (False, 0)
        assert conn.execute(text("SELECT price_suspect FROM v_latest_offers")).scalar_one() in (False, 0)

    cfg = alembic_config()
    with empty_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    assert "price_suspect" not in _columns(empty_engine, "observations")
    assert _columns(empty_engine, "v_latest_offers") == view_0006
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM v_latest_offers")).scalar_one() == 1
