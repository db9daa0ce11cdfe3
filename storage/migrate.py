"""Schema creation and upgrades, only through Alembic migrations."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from crawler.errors import UserError

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision`; a database at a revision this code does not know is refused, untouched."""
    cfg = alembic_config()
    with engine.begin() as conn:
        _refuse_newer_schema(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _refuse_newer_schema(conn: Connection) -> None:
    revision = MigrationContext.configure(conn).get_current_revision()
    if is_newer_than_code(revision):
        where = conn.engine.url.render_as_string(hide_password=True)
        raise UserError(
            f"database {where} is at revision {revision}, newer than this pricewatch (head {head_revision()}): "
            "upgrade pricewatch instead; nothing changed"
        )


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@cache
def known_revisions() -> frozenset[str]:
    """Every revision the migrations of this pricewatch define."""
    return frozenset(script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def is_newer_than_code(revision: str | None) -> bool:
    """A revision no migration here defines: written by a newer pricewatch (only that one can go on from it)."""
    return revision is not None and revision not in known_revisions()
