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
    from storage.engine import make_engine
    from storage.migrate import current_revision, head_revision

    engine = make_engine(db_url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    row = {
        "database": engine.url.render_as_string(hide_password=True),
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
    else:
        click.echo(f"{row['database']}: revision {revision}, newest is {head}; run `pricewatch db upgrade`")
