"""Revision 0011 (panel users, failed logins, the alert note) goes down and up again on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from storage.migrate import alembic_config, current_revision, head_revision, upgrade


def _schema(engine: Engine) -> tuple[set[str], set[str]]:
    found = inspect(engine)
    return set(found.get_table_names()), {c["name"] for c in found.get_columns("alerts")}


def test_revision_0011_downgrades_and_upgrades_again(engine: Engine) -> None:
    tables, columns = _schema(engine)
    assert {"users", "login_failures"} <= tables
    assert {"note", "note_by", "note_at"} <= columns
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
    tables, columns = _schema(engine)
    assert not {"users", "login_failures"} & tables
    assert not {"note", "note_by", "note_at"} & columns
    assert "feedback" in columns  # the Telegram buttons' record stays
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables, columns = _schema(engine)
    assert {"users", "login_failures"} <= tables
    assert {"note", "note_by", "note_at"} <= columns
