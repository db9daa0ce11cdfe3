"""`pricewatch users add|list|passwd|disable`: the web panel's accounts."""

from __future__ import annotations

import sys

import click

from pricewatch.cli.common import db_option, emit, format_option


def _password(from_stdin: bool) -> str:
    """The new password: one line of standard input for scripts, else asked twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group()
def cli() -> None:
    """Web panel accounts: admin, manager (limited to distributors and/or categories) and viewer."""


@cli.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "manager", "viewer"]), required=True, help="What the user may do.")
@click.option("--distributor", "distributors", multiple=True, metavar="CODE", help="A manager's distributor (repeat).")
@click.option("--category", "categories", multiple=True, metavar="NAME", help="A manager's product category (repeat).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@db_option
def add(
    *,
    username: str,
    role: str,
    distributors: tuple[str, ...],
    categories: tuple[str, ...],
    password_stdin: bool,
    db_url: str,
) -> None:
    """Add an account. A manager sees and acts on its distributors and/or categories only (both: the overlap);
    an admin and a viewer see everything, and a viewer changes nothing."""
    from storage.engine import make_engine, session_scope
    from web.accounts import NewUser, create

    password = _password(password_stdin)
    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            create(session, NewUser(username, password, role, distributors, categories))
    finally:
        engine.dispose()
    click.echo(f"user {username} added ({role})")


@cli.command("list")
@db_option
@format_option("table", "json")
def list_users(db_url: str, fmt: str) -> None:
    """Every account with its role, scope and last login."""
    from storage.engine import make_engine, session_scope
    from storage.queries.web_users import all_users

    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            rows = [
                {
                    "username": u.username,
                    "role": u.role.value,
                    "distributors": ", ".join(u.distributors) if fmt == "table" else u.distributors,
                    "categories": ", ".join(u.categories) if fmt == "table" else u.categories,
                    "disabled": u.disabled,
                    "last_login_at": u.last_login_at,
                }
                for u in all_users(session)
            ]
    finally:
        engine.dispose()
    emit(rows, fmt, [(k, k) for k in ("username", "role", "distributors", "categories", "disabled", "last_login_at")])


@cli.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@db_option
def passwd(username: str, password_stdin: bool, db_url: str) -> None:
    """Set a new password; the user's open sessions end."""
    from storage.engine import make_engine, session_scope
    from web.accounts import change_password

    password = _password(password_stdin)
    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            change_password(session, username, password)
    finally:
        engine.dispose()
    click.echo(f"password of {username} changed")


@cli.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
@db_option
def disable(username: str, enable: bool, db_url: str) -> None:
    """Disable an account (its sessions end at once), or enable it again with --enable."""
    from storage.engine import make_engine, session_scope
    from web.accounts import set_disabled

    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            set_disabled(session, username, not enable)
    finally:
        engine.dispose()
    click.echo(f"user {username} {'enabled' if enable else 'disabled'}")
