"""Messages rendered from outbox snapshots by the Jinja2 templates in `notify/templates/`, in the config's language."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from crawler.config import Config
from crawler.i18n import Texts, to_decimal
from crawler.links import panel_url, violation_path

TEMPLATES = Path(__file__).with_name("templates")
TELEGRAM_LIMIT = 4096
FEEDBACK_PREFIX = "fb"
FEEDBACK_VERDICTS = ("confirmed", "false_alarm")
# Alerts a channel manager may take to a distributor get confirm / false-alarm buttons when they open.
FEEDBACK_RULES = ("dumping", "parallel_import")
_ICONS = {"critical": "🔴", "warning": "🟠", "info": "🔵"}
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class AlertView:
    """One alert event laid out as a headline and labelled lines, ready for any template."""

    alert_id: int
    rule: str
    rule_title: str
    kind: str
    kind_title: str
    severity_title: str
    icon: str
    headline: str
    lines: list[tuple[str, str]]
    url: str | None
    observed: str | None
    repeat: bool = False  # an earlier send may have arrived unheard: the text carries the "repeat" mark
    panel: bool = False  # `url` is the alert's page on the web panel (`web.base_url`), not the offer's page


@dataclass(frozen=True)
class TelegramMessage:
    text: str
    buttons: list[tuple[str, str]]  # (label, callback data)


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class RuleCount:
    rule_title: str
    opened: int
    ongoing: int
    resolved: int


@dataclass(frozen=True)
class OpenItem:
    rule_title: str
    severity_title: str
    product: str
    seller: str
    price: str
    rrp: str
    deviation: str
    since: str
    url: str | None


@dataclass(frozen=True)
class DigestView:
    title: str
    subject: str
    counts: list[RuleCount]
    total: RuleCount
    open_items: list[OpenItem]
    failures: list[str]  # steps of the daily run that failed, for the admin
    repeat: bool = False  # an earlier send may have arrived unheard: the text carries the "repeat" mark


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
    )


def texts_for(config: Config) -> Texts:
    return Texts(config.notify.language, config.tz)


def render(template: str, texts: Texts, **context: Any) -> str:
    return environment().get_template(template).render(t=texts, **context).strip()


def feedback_callback(alert_id: int, verdict: str) -> str:
    return f"{FEEDBACK_PREFIX}:{alert_id}:{verdict}"


def parse_feedback_callback(data: str) -> tuple[int, str] | None:
    """`fb:<alert id>:<verdict>` → (alert id, verdict); anything else → None."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != FEEDBACK_PREFIX or parts[2] not in FEEDBACK_VERDICTS or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2]


def _headline(snapshot: dict[str, Any]) -> str:
    details = snapshot["details"]
    name, code = details.get("product_name"), details.get("vendor_code")
    if name and code:
        return f"{name} ({code})"
    return str(name or code or snapshot.get("subject") or "")


def _seller(details: dict[str, Any], t: Texts) -> str | None:
    parts = [p for p in (details.get("seller_name"), details.get("distributor_name")) if p]
    if not parts:
        return None
    text = " · ".join(dict.fromkeys(str(p) for p in parts))
    return f"{text} ({t('label.not_authorized')})" if details.get("seller_authorized") is False else text


class _Lines:
    """An alert's labelled lines, in the order they are added; an empty value adds no line. `regions`: region
    code → name, as the alert's marketplace names them."""

    def __init__(self, texts: Texts, regions: Mapping[str, str] | None = None) -> None:
        self.t = texts
        self.regions = regions or {}
        self.lines: list[tuple[str, str]] = []

    def region(self, code: object) -> None:
        if code:
            self.add("label.region", self.regions.get(str(code), str(code)))

    def add(self, label: str, value: object) -> None:
        if value not in (None, "", []):
            self.lines.append((self.t(label), str(value)))


def _deviation(price: Decimal | str | None, rrp: Decimal | str | None) -> Decimal | None:
    """(price − RRP) / RRP in percent, to the hundredth; None without both."""
    p, r = to_decimal(price), to_decimal(rrp)
    if p is None or r is None or r <= 0:
        return None
    return ((p - r) * 100 / r).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _dumping_lines(d: dict[str, Any], out: _Lines) -> None:
    t, cur = out.t, d.get("currency")
    price, rrp, deviation = t.money(d.get("price"), cur), t.money(d.get("rrp"), cur), t.pct(d.get("deviation_pct"))
    if "current_price" in d:  # resolved: the price now beside the one that was in violation
        now = d.get("current_price")
        shown = t.money(now, d.get("current_currency") or cur)
        now_deviation = t.pct(_deviation(now, d.get("rrp")))
        out.add("label.price_now", t("label.price_vs_rrp", price=shown, rrp=rrp, deviation=now_deviation))
        out.add("label.price_was", t("label.price_vs_rrp", price=price, rrp=rrp, deviation=deviation))
        return
    out.add("label.price", t("label.price_vs_rrp", price=price, rrp=rrp, deviation=deviation))
    _threshold_line(d, out)
    _basis_lines(d, out)
    out.add("label.days_in_violation", d.get("days_in_violation"))
    out.add("label.repeat_offences", d.get("repeat_offences") or None)
    out.add("label.promo", d.get("promo"))


def _threshold_line(d: dict[str, Any], out: _Lines) -> None:
    t, cur = out.t, d.get("currency")
    if d.get("threshold_price") is not None:
        threshold, tolerance = t.money(d["threshold_price"], cur), t.pct(d.get("tolerance_pct"), signed=False)
        out.add("label.threshold", t("label.threshold_value", price=threshold, tolerance=tolerance))


def _basis_lines(d: dict[str, Any], out: _Lines) -> None:
    """Which price dumping judged, and a marketplace's other prices beside it (a shop has only the one)."""
    if d.get("seller_price") is None and d.get("card_price") is None:
        return
    t, cur = out.t, d.get("currency")
    if d.get("price_basis"):
        out.add("label.price_basis", t.word("basis", d["price_basis"]))
    for key in ("shown_price", "seller_price", "card_price"):
        if d.get(key) is not None:
            out.add(f"label.{key}", t.money(d[key], cur))


def _platform_discount_lines(d: dict[str, Any], out: _Lines) -> None:
    """The low price the buyer sees against the RRP, the seller's own beside it: the platform's discount, not his."""
    t, cur, rrp = out.t, d.get("currency"), d.get("rrp")
    shown = d.get("shown_price", d.get("price"))
    for key, value in (
        ("shown_price", shown),
        ("card_price", d.get("card_price")),
        ("seller_price", d.get("seller_price")),
    ):
        if value is not None:
            line = t(
                "label.price_vs_rrp",
                price=t.money(value, cur),
                rrp=t.money(rrp, cur),
                deviation=t.pct(_deviation(value, rrp)),
            )
            out.add(f"label.{key}", line)
    _threshold_line(d, out)
    out.add("label.note", t("note.platform_discount"))


def _unlisted_storefront_lines(d: dict[str, Any], out: _Lines) -> None:
    out.add("label.note", out.t("note.unlisted_storefront"))


def _stock_out_lines(d: dict[str, Any], out: _Lines) -> None:
    t = out.t
    was = d.get("previous_stock")
    now = t.word("gone", d["gone"]) if d.get("gone") else t.word("stock", d.get("stock"))
    out.add("label.stock", f"{t.word('stock', was)} → {now}" if was else now)
    out.add("label.last_in_stock", t.when(d["last_in_stock_at"]) if d.get("last_in_stock_at") else None)


def _assortment_gap_lines(d: dict[str, Any], out: _Lines) -> None:
    t = out.t
    out.add("label.assortment", t.word("gap", d.get("gap")))
    if d.get("planned_quantity") is not None:
        out.add("label.planned", t("label.planned_value", quantity=d["planned_quantity"]))
    if d.get("lost_sales") is not None:
        lost = t.money(d["lost_sales"], d.get("currency"))
        out.add("label.lost_sales", t("label.lost_sales_value", lost=lost, days=d.get("gap_days")))


def _low_stock_lines(d: dict[str, Any], out: _Lines) -> None:
    out.add("label.quantity", out.t("label.quantity_value", quantity=d.get("quantity"), threshold=d.get("threshold")))


def _regional_shortage_lines(d: dict[str, Any], out: _Lines) -> None:
    out.region(d.get("region"))
    out.add("label.marketplace", d.get("marketplace"))
    out.add("label.distributors", ", ".join(str(c) for c in d.get("distributors") or []))


def _parallel_import_lines(d: dict[str, Any], out: _Lines) -> None:
    t, cur = out.t, d.get("currency")
    signals = [
        f"{t.word('signal', s.get('signal'))}" + (f" ({shown_gtins(str(s['detail']))})" if s.get("detail") else "")
        for s in d.get("signals") or []
    ]
    out.add("label.signals", "; ".join(signals))
    out.add("label.price", t.money(d.get("price"), cur) if d.get("price") is not None else None)
    out.add("label.dealer_price", t.money(d.get("dealer_price"), cur) if d.get("dealer_price") is not None else None)


def _price_move_lines(d: dict[str, Any], out: _Lines) -> None:
    t, cur = out.t, d.get("currency")
    change = f"{t.money(d.get('previous_price'), cur)} → {t.money(d.get('price'), cur)} ({t.pct(d.get('change_pct'))})"
    out.add("label.change", change)


def _crawler_health_lines(d: dict[str, Any], out: _Lines) -> None:
    out.add("label.health", out.t.word("health", d.get("health")))
    out.add("label.reason", d.get("reason"))
    if d.get("offers") is not None:
        out.add("label.offers", out.t("label.offers_value", offers=d["offers"], good=d.get("last_good_offers", "—")))


def _delivery_lines(d: dict[str, Any], out: _Lines) -> None:
    t = out.t
    out.add("label.channel", t.word("channel", d.get("channel")))
    out.add("label.recipient", d.get("recipient"))
    out.add("label.reason", d.get("reason"))
    out.add("label.messages", t("delivery.kept") if d.get("kept") else t("delivery.given_up"))


_RULE_LINES: dict[str, Callable[[dict[str, Any], _Lines], None]] = {
    "dumping": _dumping_lines,
    "stock_out": _stock_out_lines,
    "low_stock": _low_stock_lines,
    "regional_shortage": _regional_shortage_lines,
    "parallel_import": _parallel_import_lines,
    "price_move": _price_move_lines,
    "crawler_health": _crawler_health_lines,
    "assortment_gap": _assortment_gap_lines,
    "delivery": _delivery_lines,
    "platform_discount": _platform_discount_lines,
    "unlisted_storefront": _unlisted_storefront_lines,
}


def _now_lines(rule: str, d: dict[str, Any], out: _Lines) -> None:
    """A resolved alert's reading now (dumping shows it beside the violating price itself)."""
    if "current_stock" not in d or rule == "dumping":
        return
    t = out.t
    if d.get("current_price") is not None:
        out.add("label.price_now", t.money(d["current_price"], d.get("current_currency") or d.get("currency")))
    out.add("label.stock_now", t.word("stock", d.get("current_stock")))


def _legal_entity(d: dict[str, Any], t: Texts) -> str | None:
    """«ООО «X», ИНН 7701234507»: the legal entity behind the storefront, as the alert recorded it."""
    entity = d.get("legal_entity")
    if not isinstance(entity, dict) or not entity.get("tax_id"):
        return None
    if not entity.get("name"):
        return t("label.tax_id_value", tax_id=entity["tax_id"])
    return t("label.legal_entity_value", name=entity["name"], tax_id=entity["tax_id"])


def _rule_lines(
    rule: str, d: dict[str, Any], t: Texts, regions: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Who is behind the storefront and where, then the lines of the rule's own details (none for some)."""
    out = _Lines(t, regions)
    out.add("label.legal_entity", _legal_entity(d, t))
    if rule != "regional_shortage":  # its region is the finding itself, among its own lines
        out.region(d.get("region"))
    describe = _RULE_LINES.get(rule)
    if describe is not None:
        describe(d, out)
    _now_lines(rule, d, out)
    return out.lines


_GTIN14_OF_EAN13 = re.compile(r"(?<!\d)0(\d{13})(?!\d)")


def shown_gtins(text: str) -> str:
    """GTINs as people know them: a GTIN-14 with a leading zero (how codes are stored) as its 13-digit EAN-13."""
    return _GTIN14_OF_EAN13.sub(r"\1", text)


def _link(snapshot: dict[str, Any], base_url: str | None) -> str | None:
    """The panel's page of the alert when a panel is configured, else the offer's page."""
    details: dict[str, Any] = snapshot.get("details") or {}
    return panel_url(base_url, violation_path(int(snapshot["alert_id"]))) or details.get("url")


def region_names(config: Config, snapshot: dict[str, Any]) -> dict[str, str]:
    """Region code → name at the alert's marketplace, as its config entry lists them."""
    code = (snapshot.get("details") or {}).get("distributor_code")
    return {r.code: r.name for d in config.distributors if d.code == code for r in d.regions}


def alert_view(
    snapshot: dict[str, Any], texts: Texts, base_url: str | None = None, regions: Mapping[str, str] | None = None
) -> AlertView:
    """`base_url`: the web panel's (`web.base_url`); its page of the alert is then the link. `regions`: region
    code → name (`region_names`)."""
    details: dict[str, Any] = snapshot.get("details") or {}
    rule, kind, severity = snapshot["rule"], snapshot["kind"], snapshot["severity"]
    seller = _seller(details, texts)
    lines = ([(texts("label.seller"), seller)] if seller else []) + _rule_lines(rule, details, texts, regions)
    return AlertView(
        alert_id=int(snapshot["alert_id"]),
        rule=rule,
        rule_title=texts.word("rule", rule),
        kind=kind,
        kind_title=texts.word("kind", kind),
        severity_title=texts.word("severity", severity),
        icon="✅" if kind == "resolved" else _ICONS.get(severity, "🔵"),
        headline=_headline(snapshot),
        lines=lines,
        url=_link(snapshot, base_url),
        observed=texts.when(details.get("observed_at") or snapshot.get("at")),
        repeat=bool(snapshot.get("repeat")),
        panel=bool(base_url),
    )


def repeat_mark(texts: Texts) -> str:
    """What heads a message sent again after a send that may have arrived unheard."""
    return f"🔁 {texts('message.repeat')} · "


def _email_subject(subject: str, texts: Texts, repeat: bool) -> str:
    return f"[{texts('message.repeat')}] {subject}" if repeat else subject


def telegram_alert(snapshot: dict[str, Any], config: Config) -> TelegramMessage:
    texts = texts_for(config)
    view = alert_view(snapshot, texts, config.web.base_url, region_names(config, snapshot))
    buttons: list[tuple[str, str]] = []
    if view.kind == "opened" and view.rule in FEEDBACK_RULES:
        buttons = [
            (texts("button.confirm"), feedback_callback(view.alert_id, "confirmed")),
            (texts("button.false_alarm"), feedback_callback(view.alert_id, "false_alarm")),
        ]
    text = render("telegram_alert.html.j2", texts, v=view)
    return TelegramMessage(repeat_mark(texts) + text if view.repeat else text, buttons)


def email_alert(snapshot: dict[str, Any], config: Config) -> EmailContent:
    """The email of one alert event; a resolved one says so in its subject."""
    texts = texts_for(config)
    view = alert_view(snapshot, texts, config.web.base_url, region_names(config, snapshot))
    key = "email.resolved_subject" if view.kind == "resolved" else "email.alert_subject"
    subject = _email_subject(texts(key, rule=view.rule_title, subject=view.headline), texts, view.repeat)
    return EmailContent(
        subject=subject,
        text=render("email_alert.txt.j2", texts, v=view),
        html=render("email_alert.html.j2", texts, v=view, subject=subject),
    )


def _latest_per_alert(snapshots: Iterable[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    latest: dict[int, dict[str, Any]] = {}
    for snap in sorted(snapshots, key=lambda s: (s.get("at") or "", s.get("event_id") or 0)):
        latest[int(snap["alert_id"])] = snap
    return latest


def open_items(snapshots: Iterable[dict[str, Any]], texts: Texts, base_url: str | None = None) -> list[OpenItem]:
    """The alerts not resolved at their latest snapshot, most severe first; linked to the panel with `base_url`."""
    open_snaps = [s for s in _latest_per_alert(snapshots).values() if s["kind"] != "resolved"]
    open_snaps.sort(key=lambda s: (_SEVERITY_ORDER.get(s["severity"], 3), s["rule"], s["alert_id"]))
    items = []
    for snap in open_snaps:
        d: dict[str, Any] = snap.get("details") or {}
        cur = d.get("currency")
        items.append(
            OpenItem(
                rule_title=texts.word("rule", snap["rule"]),
                severity_title=texts.word("severity", snap["severity"]),
                product=_headline(snap),
                seller=_seller(d, texts) or "",
                price=_money_or_blank(texts, d.get("price"), cur),
                rrp=_money_or_blank(texts, d.get("rrp"), cur),
                deviation=texts.pct(d["deviation_pct"]) if d.get("deviation_pct") is not None else "",
                since=texts.when(snap.get("opened_at")) if snap.get("opened_at") else "",
                url=_link(snap, base_url),
            )
        )
    return items


def digest_view(
    snapshots: Sequence[dict[str, Any]], config: Config, now: dt.datetime, failures: Sequence[str] = ()
) -> DigestView:
    """Counts of opened / ongoing / resolved events per rule, and the alerts still open at their latest event."""
    texts = texts_for(config)
    per_rule: dict[str, dict[str, int]] = {}
    for snap in snapshots:
        counts = per_rule.setdefault(snap["rule"], {"opened": 0, "ongoing": 0, "resolved": 0})
        if snap["kind"] in counts:
            counts[snap["kind"]] += 1
    counts_list = [
        RuleCount(texts.word("rule", rule), c["opened"], c["ongoing"], c["resolved"]) for rule, c in per_rule.items()
    ]
    total = RuleCount(
        texts("digest.total"),
        sum(c.opened for c in counts_list),
        sum(c.ongoing for c in counts_list),
        sum(c.resolved for c in counts_list),
    )
    items = open_items(snapshots, texts, config.web.base_url)
    date = texts.day(now)
    repeat = any(snap.get("repeat") for snap in snapshots)
    return DigestView(
        title=texts("digest.title", date=date),
        subject=_email_subject(texts("digest.subject", date=date), texts, repeat),
        counts=counts_list,
        total=total,
        open_items=items,
        failures=list(failures),
        repeat=repeat,
    )


def _money_or_blank(texts: Texts, value: object, currency: str | None) -> str:
    return "" if value is None else texts.money(str(value), currency)


def email_digest(view: DigestView, config: Config, attached: bool, attachment_name: str | None = None) -> EmailContent:
    """`attachment_name`: the attached file's; a zip is the report bundled with its evidence (to unpack first)."""
    texts = texts_for(config)
    bundled = bool(attachment_name and attachment_name.endswith(".zip"))
    note = texts("digest.attachment_bundle" if bundled else "digest.attachment") if attached else None
    return EmailContent(
        subject=view.subject,
        text=render("email_digest.txt.j2", texts, v=view, attached=attached, note=note),
        html=render("email_digest.html.j2", texts, v=view, attached=attached, note=note),
    )


def fit_telegram(template: str, texts: Texts, items: Sequence[Any], limit: int = TELEGRAM_LIMIT, **context: Any) -> str:
    """Render a list message with as many `items` as fit in `limit` characters (one Telegram message); `more` says
    how many did not."""
    shown = len(items)
    while True:
        text = render(template, texts, items=items[:shown], more=len(items) - shown, **context)
        if len(text) <= limit or shown == 0:
            return text[:limit]
        shown = max(0, shown - max(1, shown // 4))


def telegram_digest(view: DigestView, config: Config) -> str:
    texts = texts_for(config)
    mark = repeat_mark(texts) if view.repeat else ""
    return mark + fit_telegram("telegram_digest.html.j2", texts, view.open_items, TELEGRAM_LIMIT - len(mark), v=view)


def delivery_subject(config: Config, channel: str, recipient: str | None) -> str:
    """The subject of the admin's alert about a channel (or one recipient on it) refusing delivery."""
    texts = texts_for(config)
    name = texts.word("channel", channel)
    if recipient is None:
        return texts("delivery.subject_channel", channel=name)
    return texts("delivery.subject_recipient", channel=name, recipient=recipient)


def message_id(dedup_keys: Iterable[str], sender: str) -> str:
    """An email Message-ID derived from the outbox rows it carries, so a resend carries the same id."""
    digest = hashlib.sha256("\n".join(sorted(dedup_keys)).encode()).hexdigest()[:32]
    address = email.utils.parseaddr(sender)[1]  # the sender may be `Name <address>`
    domain = address.rsplit("@", 1)[-1] if "@" in address else "pricewatch"
    return f"<{digest}@{domain}>"
