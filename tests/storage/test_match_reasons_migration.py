"""Revision 0009 (match reasons, decisions by title) on SQLite and PostgreSQL: up and down, rows kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from storage.engine import make_engine
from storage.migrate import alembic_config, upgrade
from tests.support.services import pg_database

ROWS = [
    "INSERT INTO distributors (id, code, name, kind, authorized) VALUES (1, 'shop', 'Магазин', 'distributor', true)",
    "INSERT INTO sellers (id, distributor_id, code, name, authorized) VALUES (1, 1, 'shop', 'Магазин', true)",
    "INSERT INTO listings (id, seller_id, url, match_method, match_confidence, first_seen_at, last_seen_at)"
    " VALUES (1, 1, 'http://shop.test/p/1', 'none', 0.0, '2026-12-01 06:00:00+00', '2026-12-01 06:00:00+00')",
    "INSERT INTO match_overrides (id, distributor_code, url, decided_at)"
    " VALUES (1, 'shop', 'http://shop.test/p/1', '2026-12-01 06:00:00+00')",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database at revision 0008."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        upgrade(engine, "0008")
        yield engine
        engine.dispose()
        return
    with pg_database() as url:
        engine = make_engine(url)
        upgrade(engine, "0008")
        yield engine
        engine.dispose()


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_the_reason_and_title_key_columns_come_and_go_and_the_rows_stay(fresh: Engine) -> None:
    with fresh.begin() as conn:
        for row in ROWS:
            conn.execute(text(row))
    upgrade(fresh, "0009")
    assert "match_reason" in _columns(fresh, "listings")
    assert "title_key" in _columns(fresh, "match_overrides")
    with fresh.begin() as conn:
        conn.execute(text("""UPDATE listings SET match_reason = '{"rule": "no_brand"}'"""))
        conn.execute(text("UPDATE match_overrides SET title_key = 'шуруповерт gromax gd1850'"))
        assert conn.execute(text("SELECT count(*) FROM v_latest_offers")).scalar_one() == 0  # the view still reads

    _downgrade(fresh, "0008")
    assert "match_reason" not in _columns(fresh, "listings")
    assert "title_key" not in _columns(fresh, "match_overrides")
    with fresh.connect() as conn:
        assert conn.execute(text("SELECT url FROM listings")).scalars().all() == ["http://shop.test/p/1"]
        assert conn.execute(text("SELECT count(*) FROM match_overrides")).scalar_one() == 1
    upgrade(fresh, "0009")  # and up again
    assert "match_reason" in _columns(fresh, "listings")
