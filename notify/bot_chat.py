"""What one chat may see and how the bot talks to it: the distributors it is scoped to (`bot.chat_scopes`), /start
and /help, the hint for anything the bot does not understand, and the arguments of /report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from crawler.config import Config
from notify.messages import render, texts_for

# The commands /help lists, in this order (their one-line descriptions are the `bot.cmd.*` texts).
HELP_COMMANDS = ("status", "violations", "sku", "report", "cases", "mute", "unmute", "help")
DAY_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
MAX_DAYS = 366


def visible_codes(config: Config, chat_id: str) -> list[str]:
    """The distributor codes the chat sees, in config order: its scope, else every one."""
    scope = config.bot.scope(chat_id)
    return [c for c in config.codes() if scope is None or c in scope]


def unknown_distributor(config: Config, chat_id: str, code: str) -> str | None:
    """The answer to a distributor the chat may not name (unknown, or outside its scope); None when it may."""
    known = visible_codes(config, chat_id)
    if code in known:
        return None
    return texts_for(config)("bot.unknown_distributor", code=code, known=", ".join(known))


def help_text(config: Config, chat_id: str, *, greeting: bool) -> str:
    """/start (with a greeting) and /help: what the bot can do, and which distributors this chat sees."""
    t = texts_for(config)
    names = {d.code: d.name for d in config.distributors}
    scoped = config.bot.scope(chat_id) is not None
    return render(
        "bot_help.html.j2",
        t,
        greeting=greeting,
        commands=[(name, t(f"bot.cmd.{name}")) for name in HELP_COMMANDS],
        distributors=[(code, names.get(code, code)) for code in visible_codes(config, chat_id)],
        scoped=scoped,
    )


def hint(config: Config, command: str | None) -> str:
    """The short answer to an unknown command (`command`) or to plain text (None)."""
    t = texts_for(config)
    return t("bot.unknown_command", command=command) if command else t("bot.plain_text")


@dataclass(frozen=True)
class ReportArgs:
    distributor: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _day(value: str) -> dt.date | None:
    for pattern in DAY_FORMATS:
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def _period(args: Sequence[str], today: dt.date) -> tuple[dt.date | None, dt.date | None] | None:
    """`[]` (the default period), `N` (the last N days), `FROM` (to today) or `FROM TO`; None: not a period."""
    if not args:
        return None, None
    if len(args) == 1 and args[0].isdigit():
        days = int(args[0])
        return (today - dt.timedelta(days=days - 1), today) if 0 < days <= MAX_DAYS else None
    if len(args) > 2:
        return None
    first = _day(args[0])
    last = _day(args[1]) if len(args) == 2 else today
    return (first, last) if first is not None and last is not None and first <= last else None


def parse_report_args(config: Config, chat_id: str, args: Sequence[str], today: dt.date) -> ReportArgs | str:
    """`/report [distributor] [N | FROM [TO]]` → what to report; a mistake → the answer naming it."""
    t = texts_for(config)
    rest = list(args)
    distributor = None
    if rest and not rest[0][:1].isdigit():
        distributor = rest.pop(0).lower()
        refused = unknown_distributor(config, chat_id, distributor)
        if refused is not None:
            return refused
    period = _period(rest, today)
    if period is None:
        return t("bot.report_usage")
    return ReportArgs(distributor, *period)
