"""The `pricewatch` command line: one lazily loaded module per command under `pricewatch.cli.commands`.

A module above this package adds its command through the `pricewatch.commands` entry points instead (today
`scheduler.py`'s `pricewatch scheduler`), so that nothing here imports up to it.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import sys
from importlib.metadata import entry_points
from typing import Any, cast

import click

from crawler.errors import UserError
from pricewatch.cli import commands

COMMAND_ENTRY_POINTS = "pricewatch.commands"


class LazyGroup(click.Group):
    """Lists commands from module names and entry points, and imports a command's module only when it is used."""

    def _modules(self) -> list[str]:
        return [m.name.replace("_", "-") for m in pkgutil.iter_modules(commands.__path__)]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self._modules(), *entry_points(group=COMMAND_ENTRY_POINTS).names})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command: click.Command | None = None
        if cmd_name in self._modules():
            module = importlib.import_module(f"{commands.__name__}.{cmd_name.replace('-', '_')}")
            command = cast(click.Command, module.cli)
        else:
            for point in entry_points(group=COMMAND_ENTRY_POINTS, name=cmd_name):
                command = cast(click.Command, point.load())
                break
        if command is not None:
            _whole_first_sentences(command)
        return command


def first_sentence(help_text: str) -> str:
    """The first sentence of a docstring's first paragraph, on one line."""
    paragraph = " ".join(inspect.cleandoc(help_text).split("\n\n", 1)[0].split())
    end = paragraph.find(". ")
    return paragraph if end < 0 else paragraph[: end + 1]


def _whole_first_sentences(command: click.Command) -> None:
    """Command lists in --help show each command's whole first sentence, where click would cut it to fit with "…"."""
    if command.short_help is None and command.help:
        command.short_help = first_sentence(command.help)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _whole_first_sentences(sub)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail to stderr.")
def cli(verbose: bool) -> None:
    """pricewatch: a brand's sales channels, watched every morning.

    Crawls distributors' and marketplaces' pages, matches offers to the RRP price list, and alerts on
    dumping, stock-outs and parallel import.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; a person's mistake ends in one line on stderr and a non-zero exit code."""
    state: dict[str, Any] = {}  # ctx.obj of every command; --db records its URL here for error messages
    try:
        return cli.main(args=argv, prog_name="pricewatch", standalone_mode=False, obj=state)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "pricewatch"
        click.echo(f"error: {exc.format_message()} (see '{where} --help')", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        from storage.db_errors import describe_db_error

        message = describe_db_error(exc, state.get("db_url"))
        if message is None:
            raise
        click.echo(f"error: {message}", err=True)
        sys.exit(1)
