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
from crawler.errors import UserError
from enforcement import run as enforcement
from enforcement.contacts import manager_distributors, seller_recipients
from enforcement.ladder import needs_approval
from enforcement.notices import parse_approval_callback
from notify.bot_chat import parse_report_args, unknown_distributor, visible_codes
from notify.messages import fit_telegram, open_items, parse_feedback_callback, render, texts_for
from notify.report_files import ReportFile, ReportRequest
from notify.routing import alert_snapshot
from storage.codes import normalize_vendor_code
from storage.queries import bot as queries
from storage.queries.cases import CaseView, list_cases

RULES: tuple[str, ...] = typing.get_args(RuleName)
VIOLATION_RULES = ("dumping", "parallel_import")
_HEALTH_ICONS = {"ok": "✅", "degraded": "⚠️", "failed": "❌"}


@dataclass(frozen=True)
class Reply:
    """An HTML message, with the files to send after it (each with its caption)."""

    text: str
    documents: tuple[ReportFile, ...] = ()


# Builds the report files /report sends — `report_files.report_files`.
ReportBuilder = Callable[[Session, Config, ReportRequest], list[ReportFile]]


def deviation_pct(price: Decimal, rrp: Decimal) -> Decimal:
    """Percent above (+) or below (−) the RRP, to the hundredth."""
    return ((price - rrp) * 100 / rrp).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def is_allowed(config: Config, chat_id: int | str) -> bool:
    """Only chats on `bot.allowed_chats` get answers; an empty list answers nobody."""
    return str(chat_id) in {str(c) for c in config.bot.allowed_chats}


def status(session: Session, config: Config, chat_id: str) -> Reply:
    """/status: each distributor's (the chat sees) last crawl run and its health verdict."""
    t = texts_for(config)
    runs = []
    visible = set(visible_codes(config, chat_id))
    for distributor, run in queries.last_runs(session):
        if distributor.code not in visible:
            continue
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


def violations(session: Session, config: Config, args: Sequence[str], chat_id: str) -> Reply:
    """/violations [distributor]: the open dumping and parallel-import alerts (of the distributors the chat sees)."""
    t = texts_for(config)
    code = args[0].lower() if args else None
    refused = unknown_distributor(config, chat_id, code) if code is not None else None
    if refused is not None:
        return Reply(escape(refused))
    codes = None if config.bot.scope(chat_id) is None else visible_codes(config, chat_id)
    alerts, total = queries.open_alerts(session, VIOLATION_RULES, code, limit=40, distributor_codes=codes)
    snapshots = [alert_snapshot(a, kind="ongoing", at=a.last_seen_at) for a in alerts]
    items = open_items(snapshots, t, config.web.base_url)
    text = fit_telegram("bot_violations.html.j2", t, items, distributor=code, total=total)
    return Reply(text)


def sku(session: Session, config: Config, args: Sequence[str], chat_id: str) -> Reply:
    """/sku CODE: the latest price of every seller of the product (at the distributors the chat sees) against its
    RRP."""
    t = texts_for(config)
    if not args:
        return Reply(escape(t("bot.sku_usage")))
    code = " ".join(args)
    product = queries.product_by_code(session, normalize_vendor_code(code))
    if product is None:
        return Reply(escape(t("bot.sku_unknown", code=code)))
    visible = set(visible_codes(config, chat_id))
    rows = [r for r in queries.latest_offers_of(session, product.vendor_code) if r.distributor_code in visible]
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


def report(
    session: Session,
    config: Config,
    args: Sequence[str],
    builder: ReportBuilder | None,
    *,
    chat_id: str,
    today: dt.date,
) -> Reply:
    """/report [distributor] [N days | FROM [TO]]: the violations report as PDF, and the XLSX (in a zip with the
    evidence when there is no web panel to link to), of the distributors the chat sees."""
    t = texts_for(config)
    parsed = parse_report_args(config, chat_id, args, today)
    if isinstance(parsed, str):
        return Reply(escape(parsed))
    if builder is None:
        return Reply(escape(t("bot.report_unavailable")))
    scope = config.bot.scope(chat_id)
    request = ReportRequest(parsed.distributor, parsed.date_from, parsed.date_to, scope)
    files = builder(session, config, request)
    return Reply(escape(t("bot.report_ready", n=len(files))), documents=tuple(files))


def _target(config: Config, chat_id: str, args: Sequence[str]) -> tuple[str | None, str | None] | str:
    """`rule X` / `distributor X` → (rule, distributor); a mistake → the message to answer with."""
    t = texts_for(config)
    kind, value = args[0].lower(), args[1].lower()
    if kind == "rule":
        if value not in RULES:
            return t("bot.unknown_rule", rule=value, known=", ".join(RULES))
        return value, None
    return unknown_distributor(config, chat_id, value) or (None, value)


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
    target = _target(config, chat_id, args)
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
    target = _target(config, chat_id, args)
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


def _case_state(session: Session, config: Config, view: CaseView) -> str:
    t = texts_for(config)
    if view.case.step == 0 and not seller_recipients(session, config, view.case):
        return t("case.no_contact")
    if view.case.step == 0 and needs_approval(session, config, view):
        return t("case.awaiting_approval")
    return t.word("case", view.case.status)


def cases(session: Session, config: Config, chat_id: str) -> Reply:
    """/cases: the open cases of the distributors this chat's channel manager answers for (every one, for a chat
    that is no manager's), in order of detection."""
    t = texts_for(config)
    answers_for = manager_distributors(config, chat_id)
    if config.bot.scope(chat_id) is not None:  # a scoped chat sees its distributors' cases only
        visible = visible_codes(config, chat_id)
        answers_for = [c for c in (visible if answers_for is None else answers_for) if c in visible]
    views = list_cases(session, open_only=True, distributor_codes=answers_for)
    items = [
        {
            "id": v.case.id,
            "whom": v.seller_name if v.seller_name == v.distributor_name else f"{v.seller_name} ({v.distributor_name})",
            "state": _case_state(session, config, v),
            "deadline": v.case.deadline.strftime("%d.%m.%Y") if v.case.deadline else None,
            "open": v.listings_open,
            "repeat": v.case.repeat_number > 0,
        }
        for v in views
    ]
    return Reply(fit_telegram("bot_cases.html.j2", t, items, total=len(items)))


ANSWER_LIMIT = 190  # Telegram shows at most 200 characters of a button's answer


def approve_case(session: Session, config: Config, data: str, who: str, now: dt.datetime) -> str:
    """A case's approval button: approve its first notice (queued at once); returns the short answer."""
    t = texts_for(config)
    case_id = parse_approval_callback(data)
    if case_id is None:
        return t("bot.case_unknown")
    try:
        outcome = enforcement.approve(session, config, case_id, by=who, now=now)
    except UserError as exc:
        return t("bot.case_refused", reason=str(exc))[:ANSWER_LIMIT]
    if outcome.held:
        return t("bot.case_approved_held")
    return t("bot.case_approved_waiting") if outcome.without_contact else t("bot.case_approved")
