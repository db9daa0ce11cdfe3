"""Options and output helpers shared by the commands: --config, --db, --format, tables and JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table

from crawler.config import DEFAULT_CONFIG, DEFAULT_TIMEZONE, Config, ConfigError, load_config
from crawler.i18n import Texts
from pricewatch.cli import headers
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


def table_zone(fmt: str, config_path: str) -> ZoneInfo | None:
    """The config's time zone for tables; None for JSON, which stays UTC and needs no config."""
    return None if fmt == "json" else get_config(config_path).tz


def local_when(value: dt.datetime | dt.date | None, tz: ZoneInfo | None) -> str | None:
    """A time as ISO UTC for scripts (no `tz`), in local minutes for people; a date as ISO either way."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    return value.isoformat() if tz is None else value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def plain(value: Any) -> Any:
    """A value as JSON holds it: decimals as exact strings, dates and times as ISO; anything else as it is."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=plain)


def table_texts() -> Texts:
    """The words and number formats tables are shown in: the language of the running command's config (its
    --config, else PRICEWATCH_CONFIG or pilot.yaml), Russian when there is none. A config the command does not
    need and cannot read does not stop it: its own checks report the config where it matters."""
    ctx = click.get_current_context(silent=True)
    path = ctx.params.get("config_path") if ctx is not None else None
    chosen = Path(path or os.environ.get("PRICEWATCH_CONFIG") or DEFAULT_CONFIG)
    if not chosen.is_file():
        return Texts("ru", ZoneInfo(DEFAULT_TIMEZONE))
    try:
        config = load_config(chosen)
    except ConfigError:
        return Texts("ru", ZoneInfo(DEFAULT_TIMEZONE))
    return Texts(config.notify.language, config.tz)


def emit(
    rows: Sequence[Mapping[str, Any]],
    fmt: str,
    columns: Iterable[tuple[str, str]] | None = None,
    title: str | tuple[str, str] | None = None,
    err: bool = False,
) -> None:
    """Print rows as a rich table (`table`) or a JSON array (`json`); to stderr with `err` (stdout carries data).

    A table's headers and known values are in the config's language (pricewatch/cli/headers.py); a title given
    as (Russian, English) likewise. JSON keeps keys and codes as they are, for scripts.
    """
    if fmt == "json":
        click.echo(to_json([{k: plain(v) for k, v in row.items()} for row in rows]), err=err)
        return
    cols = list(columns) if columns is not None else [(k, k) for k in (rows[0].keys() if rows else [])]
    table = _table(rows, cols, title, table_texts())
    stream = sys.stderr if err else sys.stdout
    Console(file=stream, width=200 if not stream.isatty() else None).print(table)


def _table(
    rows: Sequence[Mapping[str, Any]], cols: list[tuple[str, str]], title: str | tuple[str, str] | None, texts: Texts
) -> Table:
    if isinstance(title, tuple):
        title = title[0] if texts.language == "ru" else title[1]
    table = Table(title=title, show_lines=False)
    for key, english in cols:
        table.add_column(headers.header(texts, key, english))
    for row in rows:
        shown = [headers.cell(texts, key, row.get(key)) for key, _ in cols]
        table.add_row(*("" if value is None else str(plain(value)) for value in shown))
    return table
