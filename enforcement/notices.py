"""Notices: rendered from Jinja2 templates, recorded (to whom, when, which text, which evidence) and queued to the
outbox, which delivers them the way it delivers alerts: once, and never lost.

Templates live in `enforcement/templates/<language>/<kind>.j2` (`first`, `second`, `escalation`, `approval`); a
brand's own folder (`enforcement.templates_dir`, same layout) wins file by file. A template renders one part at a
time (`part`: subject, text, html, telegram); html and telegram parts are HTML-escaped, whatever the template
forgets, because they are rendered by an environment that escapes everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.errors import UserError
from crawler.i18n import Language, Texts
from crawler.links import panel_url, violation_path
from enforcement.contacts import EMAIL, TELEGRAM, Recipient
from storage.models import Case, Notice, NoticeKind
from storage.queries.cases import CaseItem, CaseView, queue_notice
from storage.queries.evidence import evidence_by_ids

TEMPLATES = Path(__file__).with_name("templates")
TELEGRAM_LIMIT = 4096  # characters in one Telegram message
ENFORCEMENT = "enforcement"  # the outbox payload's kind: notify renders nothing, it sends what is here
APPROVE = "approve"
CASE_CALLBACK = "case"
APPROVE_BUTTON = {"ru": "Одобрить первое уведомление", "en": "Approve the first notice"}
INTERNAL = (NoticeKind.ESCALATION, NoticeKind.APPROVAL)


def approval_callback(case_id: int) -> str:
    return f"{CASE_CALLBACK}:{case_id}:{APPROVE}"


def parse_approval_callback(data: str) -> int | None:
    """`case:<id>:approve` → the case id; anything else → None."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != CASE_CALLBACK or parts[2] != APPROVE or not parts[1].isdigit():
        return None
    return int(parts[1])


@lru_cache(maxsize=8)
def _environments(custom: str | None) -> tuple[jinja2.Environment, jinja2.Environment]:
    """(plain, escaping) environments over the brand's folder, then the defaults."""
    folders = ([custom] if custom else []) + [str(TEMPLATES)]
    options: dict[str, Any] = {
        "loader": jinja2.FileSystemLoader(folders),
        "trim_blocks": True,
        "lstrip_blocks": True,
        "undefined": jinja2.StrictUndefined,
    }
    return jinja2.Environment(autoescape=False, **options), jinja2.Environment(autoescape=True, **options)


@dataclass(frozen=True)
class Parts:
    subject: str
    text: str
    html: str
    telegram: str


def _render_part(env: jinja2.Environment, template: str, part: str, context: dict[str, Any]) -> str:
    try:
        rendered = env.get_template(template).render(context | {"part": part})
    except jinja2.TemplateError as exc:
        raise UserError(f"notice template {template}: {exc}") from None
    return " ".join(rendered.split()) if part == "subject" else rendered.strip()


def _telegram_part(env: jinja2.Environment, template: str, context: dict[str, Any]) -> str:
    """The Telegram part with as many of the items as fit in one message (`more` says how many did not)."""
    items = list(context["items"])
    shown = len(items)
    while True:
        text = _render_part(env, template, "telegram", context | {"items": items[:shown], "more": len(items) - shown})
        if len(text) <= TELEGRAM_LIMIT or shown == 0:
            return text[:TELEGRAM_LIMIT]
        shown = max(0, shown - max(1, shown // 4))


def render(config: Config, name: str, language: str, context: dict[str, Any]) -> Parts:
    """Every part of template `<language>/<name>.j2`; a template that fails is a UserError naming it."""
    plain, escaping = _environments(config.enforcement.templates_dir)
    template = f"{language}/{name}.j2"
    full = {"more": 0} | context | {"t": Texts(_language(language), config.tz)}
    return Parts(
        subject=_render_part(plain, template, "subject", full),
        text=_render_part(plain, template, "text", full),
        html=_render_part(escaping, template, "html", full),
        telegram=_telegram_part(escaping, template, full),
    )


def _language(value: str) -> Language:
    return "en" if value == "en" else "ru"


def _item(item: CaseItem, texts: Texts, link: str | None) -> dict[str, Any]:
    d = item.details
    currency = d.get("currency")
    signals = [texts.word("signal", s.get("signal")) for s in d.get("signals") or [] if isinstance(s, dict)]
    return {
        "rule": item.rule,
        "product": d.get("product_name") or d.get("vendor_code") or item.url,
        "vendor_code": d.get("vendor_code"),
        "url": item.url,
        "price": texts.money(d.get("price"), currency),
        "rrp": texts.money(d.get("rrp"), currency),
        "threshold": texts.money(d.get("threshold_price"), currency),
        "deviation": texts.pct(d.get("deviation_pct")),
        "signals": "; ".join(signals),
        "since": texts.day(item.detected_at),
        "panel_url": link,
    }


@dataclass(frozen=True)
class Subject:
    """What a notice is about: the case, who it concerns, its listings still in violation."""

    view: CaseView
    items: list[CaseItem]
    sent: dict[str, dt.date]  # the day each earlier notice kind was issued

    @property
    def case(self) -> Case:
        return self.view.case


def context(config: Config, about: Subject, language: str, *, internal: bool) -> dict[str, Any]:
    """The template variables of a notice about `about` (internal messages link the panel's pages)."""
    texts = Texts(_language(language), config.tz)
    case, view = about.case, about.view
    base = config.web.base_url if internal else None
    brands = sorted({i.brand for i in about.items if i.brand})
    return {
        "case": {"id": case.id, "repeat_number": case.repeat_number, "opened": texts.day(case.opened_at)},
        "repeat": case.repeat_number > 0,
        "distributor": {"code": view.distributor_code, "name": view.distributor_name},
        "seller": {
            "code": view.seller_code,
            "name": view.seller_name,
            "legal_name": view.legal_name,
            "tax_id": view.tax_id,
        },
        "brand": ", ".join(brands) or None,
        "items": [_item(i, texts, panel_url(base, violation_path(i.alert_id))) for i in about.items],
        "sent": {kind: _date(texts, day) for kind, day in about.sent.items()},
        "deadline": _date(texts, case.deadline) if case.deadline else None,
    }


def _date(texts: Texts, day: dt.date) -> str:
    return day.strftime("%d.%m.%Y" if texts.language == "ru" else "%Y-%m-%d")


def evidence(session: Session, items: Sequence[CaseItem]) -> list[dict[str, Any]]:
    """Each listing's evidence files as a notice cites them (kind, page, capture time, SHA-256, stored path)."""
    wanted = [(i, ref) for i in items for ref in i.evidence_ids if ref is not None]
    stored = evidence_by_ids(session, [ref for _, ref in wanted])
    refs = []
    for item, ref in wanted:
        row = stored.get(ref)
        if row is not None:
            refs.append(
                {
                    "alert_id": item.alert_id,
                    "vendor_code": item.details.get("vendor_code"),
                    "page": item.url,
                    "kind": row.kind,
                    "url": row.url,
                    "captured_at": row.captured_at.isoformat(),
                    "sha256": row.sha256,
                    "path": row.path,
                }
            )
    return refs


def release_time(config: Config, now: dt.datetime) -> dt.datetime:
    """`now`, or the end of the quiet hours `now` falls in."""
    quiet = config.enforcement.quiet_hours
    end = quiet.end_after(now, config.tz) if quiet is not None else None
    return end or now


@dataclass(frozen=True)
class Issue:
    """One step's notices: what, about what, to whom, and when."""

    kind: NoticeKind
    about: Subject
    recipients: Sequence[Recipient]
    now: dt.datetime
    extra: dict[str, Any]  # template variables of this kind (the approval's recipients)


def _payload(config: Config, issue: Issue, notice: Notice, parts: Parts, refs: list[dict[str, Any]]) -> dict[str, Any]:
    """The outbox row's payload: the rendered message as it goes, and for an email the evidence to attach."""
    payload: dict[str, Any] = {"kind": ENFORCEMENT, "notice": notice.kind.value, "case_id": notice.case_id}
    if notice.channel == TELEGRAM:
        buttons = []
        if issue.kind == NoticeKind.APPROVAL:
            buttons = [[APPROVE_BUTTON[_language(notice.language)], approval_callback(notice.case_id)]]
        return payload | {"text": parts.telegram, "buttons": buttons}
    attach = refs if config.enforcement.attach_evidence and issue.kind not in INTERNAL else []
    return payload | {"subject": parts.subject, "text": parts.text, "html": parts.html, "evidence": attach}


def issue(session: Session, config: Config, step: Issue) -> list[Notice]:
    """Render, record and queue a step's notice to each recipient; returns the notices."""
    case = step.about.case
    due = release_time(config, step.now)
    refs = evidence(session, step.about.items)
    internal = step.kind in INTERNAL
    notices = []
    for recipient in step.recipients:
        attached = recipient.channel == EMAIL and bool(refs) and config.enforcement.attach_evidence and not internal
        variables = context(config, step.about, recipient.language, internal=internal) | step.extra
        variables |= {"person": recipient.person, "attached": attached}
        parts = render(config, step.kind.value, recipient.language, variables)
        email = recipient.channel == EMAIL
        notice = Notice(
            case_id=case.id,
            kind=step.kind,
            channel=recipient.channel,
            recipient=recipient.address,
            person=recipient.person,
            language=recipient.language,
            subject=parts.subject if email else None,
            text=parts.text if email else parts.telegram,
            html=parts.html if email else None,
            evidence=refs,
            deadline=case.deadline,
            created_at=step.now,
            due_at=due,
            issued_on=due.astimezone(config.tz).date(),
        )
        queue_notice(session, notice, _payload(config, step, notice, parts, refs))
        notices.append(notice)
    return notices
