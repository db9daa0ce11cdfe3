"""`pricewatch db`: create, upgrade and inspect the database schema (Alembic migrations only)."""

from __future__ import annotations

import click

from pricewatch.cli.common import db_option, emit, format_option


@click.group()
def cli() -> None:
    """Create, upgrade and inspect the database schema."""


@cli.command()
@db_option
@format_option("table", "json")
def upgrade(*, db_url: str, fmt: str) -> None:
    """Create the schema, or upgrade it to the newest revision (safe to run again)."""
    from storage.engine import make_engine
    from storage.migrate import current_revision, head_revision
    from storage.migrate import upgrade as run_upgrade

    engine = make_engine(db_url)
    try:
        before = current_revision(engine)
        run_upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    row = {
        "database": engine.url.render_as_string(hide_password=True),
        "from": before,
        "to": after,
        "head": head_revision(),
    }
    if fmt == "json":
        emit([row], fmt)
    elif before == after:
        click.echo(f"{row['database']}: already at the newest revision {after}")
    else:
        click.echo(f"{row['database']}: upgraded from {before or 'an empty database'} to {after}")


@cli.command()
@db_option
@format_option("table", "json")
def current(*, db_url: str, fmt: str) -> None:
    """Show the schema revision of the database and whether it is the newest."""
    from storage.engine import resolve_db_url, safe_url
    from storage.migrate import head_revision, is_newer_than_code

    revision = _revision_of(db_url)
    head = head_revision()
    row = {
        "database": safe_url(resolve_db_url(db_url)),
        "revision": revision,
        "head": head,
        "at_head": revision == head,
    }
    if fmt == "json":
        emit([row], fmt)
    elif revision == head:
        click.echo(f"{row['database']}: revision {revision} (newest)")
    elif revision is None:
        click.echo(f"{row['database']}: no schema yet; run `pricewatch db upgrade`")
    elif is_newer_than_code(revision):
        click.echo(
            f"{row['database']}: revision {revision}, newer than this pricewatch (head {head}); "
            "upgrade pricewatch, not the database"
        )
    else:
        click.echo(f"{row['database']}: revision {revision}, newest is {head}; run `pricewatch db upgrade`")


def _revision_of(db_url: str) -> str | None:
    """The database's schema revision; None for a SQLite file that does not exist yet (reading creates nothing)."""
    from storage.engine import make_engine, sqlite_file
    from storage.migrate import current_revision

    path = sqlite_file(db_url)
    if path is not None and not path.exists():
        return None
    engine = make_engine(db_url, create=False)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()
