"""The Telegram bot's commands as plain functions over a database session, so they are tested without Telegram."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from sqlalchemy.orm import Session

from crawler.config import Config, RuleName
from notify.messages import fit_telegram, open_items, parse_feedback_callback, render, texts_for
from notify.routing import alert_snapshot
from storage.codes import normalize_vendor_code
from storage.queries import bot as queries

RULES: tuple[str, ...] = typing.get_args(RuleName)
VIOLATION_RULES = ("dumping", "parallel_import")
_HEALTH_ICONS = {"ok": "✅", "degraded": "⚠️", "failed": "❌"}


@dataclass(frozen=True)
class Reply:
    """An HTML message, with a file to send after it when there is one."""

    text: str
    document: tuple[str, bytes] | None = None


# Builds the violations report for /report [distributor]: (file name, content) — `report_files.violations_xlsx`.
ReportBuilder = Callable[[Session, Config, str | None], tuple[str, bytes]]


def deviation_pct(price: Decimal, rrp: Decimal) -> Decimal:
    """Percent above (+) or below (−) the RRP, to the hundredth."""
    return ((price - rrp) * 100 / rrp).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def is_allowed(config: Config, chat_id: int | str) -> bool:
    """Only chats on `bot.allowed_chats` get answers; an empty list answers nobody."""
    return str(chat_id) in {str(c) for c in config.bot.allowed_chats}


def status(session: Session, config: Config) -> Reply:
    """/status: each distributor's last crawl run and its health verdict."""
    t = texts_for(config)
    runs = []
    for distributor, run in queries.last_runs(session):
        entry: dict[str, object] = {
            "code": distributor.code,
            "name": distributor.name,
            "icon": "⚪",
            "state": t("bot.never_crawled"),
            "when": None,
            "offers": None,
            "reason": None,
        }
        if run is not None:
            entry.update(
                icon=_HEALTH_ICONS.get(str(run.health), "⏳"),
                state=t.word("health", run.health) if run.health else t.word("run", run.status),
                when=t.when(run.finished_at or run.started_at),
                offers=run.offers,
                reason=run.health_reason if run.health and str(run.health) != "ok" else None,
            )
        runs.append(entry)
    return Reply(render("bot_status.html.j2", t, runs=runs))


def violations(session: Session, config: Config, args: Sequence[str]) -> Reply:
    """/violations [distributor]: the open dumping and parallel-import alerts."""
    t = texts_for(config)
    code = args[0].lower() if args else None
    if code is not None and code not in config.codes():
        return Reply(escape(t("bot.unknown_distributor", code=code, known=", ".join(config.codes()))))
    alerts, total = queries.open_alerts(session, VIOLATION_RULES, code, limit=40)
    snapshots = [alert_snapshot(a, kind="ongoing", at=a.last_seen_at) for a in alerts]
    items = open_items(snapshots, t)
    text = fit_telegram("bot_violations.html.j2", t, items, distributor=code, total=total)
    return Reply(text)


def sku(session: Session, config: Config, args: Sequence[str]) -> Reply:
    """/sku CODE: the latest price of every seller of the product against its RRP."""
    t = texts_for(config)
    if not args:
        return Reply(escape(t("bot.sku_usage")))
    code = " ".join(args)
    product = queries.product_by_code(session, normalize_vendor_code(code))
    if product is None:
        return Reply(escape(t("bot.sku_unknown", code=code)))
    rows = queries.latest_offers_of(session, product.vendor_code)
    offers = []
    rrp = None
    for row in rows:
        rrp = rrp if rrp is not None else row.rrp
        stock = t.word("stock", row.stock) + (f", {row.quantity}" if row.quantity is not None else "")
        offers.append(
            {
                "seller": " · ".join(dict.fromkeys(str(p) for p in (row.seller_name, row.distributor_name) if p)),
                "price": t.money(row.price, row.currency),
                "deviation": t.pct(deviation_pct(row.price, row.rrp)) if row.price and row.rrp else "",
                "stock": stock,
                "when": t.when(row.observed_at),
                "url": row.url,
            }
        )
    product_line = f"{product.name} ({product.vendor_code})"
    text = fit_telegram("bot_sku.html.j2", t, offers, product=product_line, rrp=t.money(rrp) if rrp else None)
    return Reply(text)


def report(session: Session, config: Config, args: Sequence[str], builder: ReportBuilder | None) -> Reply:
    """/report [distributor]: the violations report as an XLSX file."""
    t = texts_for(config)
    code = args[0].lower() if args else None
    if code is not None and code not in config.codes():
        return Reply(escape(t("bot.unknown_distributor", code=code, known=", ".join(config.codes()))))
    if builder is None:
        return Reply(escape(t("bot.report_unavailable")))
    filename, content = builder(session, config, code)
    return Reply(escape(filename), document=(filename, content))


def _target(config: Config, args: Sequence[str]) -> tuple[str | None, str | None] | str:
    """`rule X` / `distributor X` → (rule, distributor); a mistake → the message to answer with."""
    t = texts_for(config)
    kind, value = args[0].lower(), args[1].lower()
    if kind == "rule":
        if value not in RULES:
            return t("bot.unknown_rule", rule=value, known=", ".join(RULES))
        return value, None
    if value not in config.codes():
        return t("bot.unknown_distributor", code=value, known=", ".join(config.codes()))
    return None, value


def _describe(config: Config, rule: str | None, distributor: str | None) -> str:
    t = texts_for(config)
    if rule is not None:
        return t("bot.what.rule", value=t.word("rule", rule))
    return t("bot.what.distributor", value=distributor)


def mute(session: Session, config: Config, chat_id: str, args: Sequence[str]) -> Reply:
    """/mute rule X | /mute distributor X; without arguments, what this chat has muted."""
    t = texts_for(config)
    if not args:
        mutes = queries.chat_mutes(session, chat_id)
        if not mutes:
            return Reply(escape(t("bot.mutes_none")))
        what = "; ".join(_describe(config, m.rule, m.distributor_code) for m in mutes)
        return Reply(escape(t("bot.mutes_list", what=what)))
    if len(args) != 2 or args[0].lower() not in {"rule", "distributor"}:
        return Reply(escape(t("bot.mute_usage")))
    target = _target(config, args)
    if isinstance(target, str):
        return Reply(escape(target))
    queries.add_mute(session, chat_id, *target)
    return Reply(escape(t("bot.muted", what=_describe(config, *target))))


def unmute(session: Session, config: Config, chat_id: str, args: Sequence[str]) -> Reply:
    """/unmute (everything) | /unmute rule X | /unmute distributor X."""
    t = texts_for(config)
    if not args:
        return Reply(escape(t("bot.unmuted", n=queries.remove_mutes(session, chat_id))))
    if len(args) != 2 or args[0].lower() not in {"rule", "distributor"}:
        return Reply(escape(t("bot.unmute_usage")))
    target = _target(config, args)
    if isinstance(target, str):
        return Reply(escape(target))
    return Reply(escape(t("bot.unmuted", n=queries.remove_mutes(session, chat_id, *target))))


def feedback(session: Session, config: Config, data: str, who: str, now: dt.datetime) -> str:
    """An alert's confirm / false-alarm button: record the verdict on the alert; returns the short answer."""
    t = texts_for(config)
    parsed = parse_feedback_callback(data)
    if parsed is None:
        return t("bot.feedback_unknown")
    alert_id, verdict = parsed
    if queries.record_feedback(session, alert_id, verdict, who, now) is None:
        return t("bot.feedback_unknown")
    return t(f"bot.feedback.{verdict}")
