"""Options and output helpers shared by the commands: --config, --db, --format, tables and JSON."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from crawler.config import DEFAULT_CONFIG, Config, load_config
from storage.engine import DEFAULT_DB_URL

F = TypeVar("F", bound=Callable[..., Any])
DATE = click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"])  # every command takes both


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        envvar="PRICEWATCH_CONFIG",
        default=DEFAULT_CONFIG,
        show_default=True,
        metavar="FILE",
        help="The YAML config (or PRICEWATCH_CONFIG).",
    )(func)


def _remember_db_url(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if isinstance(ctx.obj, dict):  # main() names the database when it is unreachable
        ctx.obj["db_url"] = value
    return value


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db_url",
        envvar="DATABASE_URL",
        default=DEFAULT_DB_URL,
        show_default=True,
        metavar="URL",
        help="Database URL (or DATABASE_URL); postgresql+psycopg://… in production.",
        callback=_remember_db_url,
    )(func)


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    def deco(func: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(list(choices)),
            default=default,
            show_default=True,
            help="Output: a table for people, JSON for scripts.",
        )(func)

    return deco


def get_config(path: str) -> Config:
    return load_config(path)


def plain(value: Any) -> Any:
    """A value as JSON holds it: decimals as exact strings, dates and times as ISO; anything else as it is."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=plain)


def emit(
    rows: Sequence[Mapping[str, Any]],
    fmt: str,
    columns: Iterable[tuple[str, str]] | None = None,
    title: str | None = None,
    err: bool = False,
) -> None:
    """Print rows as a rich table (`table`) or a JSON array (`json`); to stderr with `err` (stdout carries data)."""
    if fmt == "json":
        click.echo(to_json([{k: plain(v) for k, v in row.items()} for row in rows]), err=err)
        return
    cols = list(columns) if columns is not None else [(k, k) for k in (rows[0].keys() if rows else [])]
    table = Table(title=title, show_lines=False)
    for _, header in cols:
        table.add_column(header)
    for row in rows:
        table.add_row(*("" if row.get(key) is None else str(plain(row.get(key))) for key, _ in cols))
    stream = sys.stderr if err else sys.stdout
    Console(file=stream, width=200 if not stream.isatty() else None).print(table)
