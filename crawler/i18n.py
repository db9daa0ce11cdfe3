"""User-facing words in Russian (default) and English, and numbers, money and times as each language writes them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo

Language = Literal["ru", "en"]

# key: (Russian, English)
STRINGS: dict[str, tuple[str, str]] = {
    "rule.dumping": ("Демпинг", "Dumping"),
    "rule.stock_out": ("Нет в наличии", "Out of stock"),
    "rule.low_stock": ("Заканчивается", "Low stock"),
    "rule.regional_shortage": ("Дефицит в регионе", "Regional shortage"),
    "rule.parallel_import": ("Параллельный импорт", "Parallel import"),
    "rule.price_move": ("Изменение цены", "Price move"),
    "rule.crawler_health": ("Сбой сбора данных", "Crawler health"),
    "rule.delivery": ("Сбой доставки", "Delivery failure"),
    "kind.opened": ("новое", "new"),
    "kind.ongoing": ("продолжается", "ongoing"),
    "kind.resolved": ("устранено", "resolved"),
    "severity.info": ("инфо", "info"),
    "severity.warning": ("важно", "warning"),
    "severity.critical": ("критично", "critical"),
    "stock.in_stock": ("в наличии", "in stock"),
    "stock.low_stock": ("мало", "low stock"),
    "stock.out_of_stock": ("нет в наличии", "out of stock"),
    "stock.preorder": ("предзаказ", "pre-order"),
    "stock.unknown": ("неизвестно", "unknown"),
    "health.ok": ("в норме", "ok"),
    "health.degraded": ("деградация", "degraded"),
    "health.failed": ("сбой", "failed"),
    "run.running": ("идёт сбор", "running"),
    "run.finished": ("завершён", "finished"),
    "run.failed": ("сбой", "failed"),
    "signal.unauthorized_seller": ("продавец не авторизован", "seller not authorized"),
    "signal.foreign_marker": ("признак иностранной версии", "foreign-version marker"),
    "signal.foreign_gtin": ("чужой штрихкод (EAN)", "EAN not in the catalog"),
    "signal.below_dealer_price": ("цена ниже дилерской", "price below the dealer price"),
    "label.seller": ("Продавец", "Seller"),
    "alert.open": ("открыто", "open"),
    "alert.resolved": ("устранено", "resolved"),
    "label.price": ("Цена", "Price"),
    "label.rrp": ("РРЦ", "RRP"),
    "label.deviation": ("Отклонение", "Deviation"),
    "label.price_vs_rrp": ("{price} при РРЦ {rrp} ({deviation})", "{price} vs RRP {rrp} ({deviation})"),
    "label.threshold": ("Порог", "Threshold"),
    "label.threshold_value": ("{price} (допуск {tolerance})", "{price} (tolerance {tolerance})"),
    "label.days_in_violation": ("Дней с нарушением", "Days in violation"),
    "label.repeat_offences": ("Повторных нарушений", "Repeat offences"),
    "label.promo": ("Акция", "Promo"),
    "label.stock": ("Наличие", "Stock"),
    "label.last_in_stock": ("Последний раз в наличии", "Last in stock"),
    "label.quantity": ("Остаток", "Quantity"),
    "label.quantity_value": ("{quantity} шт. (порог {threshold})", "{quantity} pcs (threshold {threshold})"),
    "label.region": ("Регион", "Region"),
    "label.distributors": ("Дистрибьюторы", "Distributors"),
    "label.signals": ("Признаки", "Signals"),
    "label.dealer_price": ("Дилерская цена", "Dealer price"),
    "label.change": ("Изменение", "Change"),
    "label.health": ("Состояние", "Health"),
    "label.reason": ("Причина", "Reason"),
    "label.offers": ("Предложений", "Offers"),
    "label.offers_value": ("{offers} (в последнем успешном сборе {good})", "{offers} (last good run {good})"),
    "label.observed": ("Замечено", "Observed"),
    "label.open_page": ("Открыть страницу", "Open page"),
    "label.not_authorized": ("не авторизован", "not authorized"),
    "button.confirm": ("Подтверждаю", "Confirm"),
    "button.false_alarm": ("Ложная тревога", "False alarm"),
    "digest.subject": ("pricewatch: сводка за {date}", "pricewatch: digest for {date}"),
    "digest.title": ("Сводка за {date}", "Digest for {date}"),
    "digest.rule": ("Правило", "Rule"),
    "digest.opened": ("Новые", "New"),
    "digest.ongoing": ("Продолжаются", "Ongoing"),
    "digest.resolved": ("Устранены", "Resolved"),
    "digest.total": ("Итого", "Total"),
    "digest.open_table": ("Открытые нарушения", "Open violations"),
    "digest.none_open": ("Открытых нарушений нет.", "No open violations."),
    "digest.severity": ("Важность", "Severity"),
    "digest.product": ("Товар", "Product"),
    "digest.since": ("С", "Since"),
    "digest.link": ("Ссылка", "Link"),
    "digest.failures": ("Сбои ежедневного запуска", "Failures in the daily run"),
    "digest.more": ("…и ещё {n}", "…and {n} more"),
    "digest.attachment": ("Отчёт о нарушениях во вложении (XLSX).", "The violations report is attached (XLSX)."),
    "email.alert_subject": ("pricewatch: {rule} — {subject}", "pricewatch: {rule} — {subject}"),
    "email.resolved_subject": ("pricewatch: устранено: {rule} — {subject}", "pricewatch: resolved: {rule} — {subject}"),
    "message.repeat": ("повтор", "repeat"),
    "channel.telegram": ("Telegram", "Telegram"),
    "channel.email": ("Почта (SMTP)", "Email (SMTP)"),
    "delivery.subject_channel": ("{channel} не принимает сообщения", "{channel} refuses messages"),
    "delivery.subject_recipient": ("{channel} не доставляет: {recipient}", "{channel} refuses {recipient}"),
    "delivery.kept": ("ждут и уйдут, когда канал их примет", "wait and go once the channel takes them"),
    "delivery.given_up": ("этому получателю не отправляются", "to this recipient are given up"),
    "label.channel": ("Канал", "Channel"),
    "label.recipient": ("Получатель", "Recipient"),
    "label.messages": ("Сообщения", "Messages"),
    "bot.not_available": ("нет данных", "no data"),
    "bot.status_title": ("Последние сборы", "Last crawl runs"),
    "bot.never_crawled": ("ещё не собиралось", "never crawled"),
    "bot.violations_title": ("Открытые нарушения", "Open violations"),
    "bot.violations_none": ("Открытых нарушений нет.", "No open violations."),
    "bot.unknown_distributor": (
        "Нет дистрибьютора «{code}». Известны: {known}",
        "No distributor {code!r}. Known: {known}",
    ),
    "bot.sku_usage": ("Укажите артикул: /sku TL-1001", "Give a vendor code: /sku TL-1001"),
    "bot.sku_unknown": ("Артикул «{code}» не найден в каталоге.", "Vendor code {code!r} is not in the catalog."),
    "bot.sku_no_offers": ("Предложений пока нет.", "No offers yet."),
    "bot.report_unavailable": ("Отчёты пока недоступны.", "Reports are not available yet."),
    "bot.mute_usage": (
        "Использование: /mute rule <правило> или /mute distributor <код>",
        "Usage: /mute rule <rule> or /mute distributor <code>",
    ),
    "bot.unmute_usage": (
        "Использование: /unmute, /unmute rule <правило> или /unmute distributor <код>",
        "Usage: /unmute, /unmute rule <rule> or /unmute distributor <code>",
    ),
    "bot.unknown_rule": ("Нет правила «{rule}». Известны: {known}", "No rule {rule!r}. Known: {known}"),
    "bot.muted": ("Уведомления отключены: {what}", "Muted: {what}"),
    "bot.unmuted": ("Уведомления включены ({n})", "Unmuted ({n})"),
    "bot.mutes_none": ("Отключённых уведомлений нет.", "Nothing is muted."),
    "bot.mutes_list": ("Отключено: {what}", "Muted: {what}"),
    "bot.what.rule": ("правило {value}", "rule {value}"),
    "bot.what.distributor": ("дистрибьютор {value}", "distributor {value}"),
    "bot.feedback.confirmed": ("Записано: подтверждено", "Recorded: confirmed"),
    "bot.feedback.false_alarm": ("Записано: ложная тревога", "Recorded: false alarm"),
    "bot.feedback_unknown": ("Оповещение не найдено", "Alert not found"),
    "bot.cmd.status": ("последние сборы и их состояние", "last crawl runs and their health"),
    "bot.cmd.violations": ("открытые нарушения [дистрибьютор]", "open violations [distributor]"),
    "bot.cmd.sku": ("цены товара у продавцов: /sku артикул", "a product's prices by seller: /sku code"),
    "bot.cmd.report": ("отчёт о нарушениях, XLSX [дистрибьютор]", "the violations report, XLSX [distributor]"),
    "bot.cmd.mute": ("отключить: /mute rule|distributor X", "mute: /mute rule|distributor X"),
    "bot.cmd.unmute": ("включить: /unmute [rule|distributor X]", "unmute: /unmute [rule|distributor X]"),
}


class Texts:
    """The strings and number formats of one language."""

    def __init__(self, language: Language, tz: ZoneInfo) -> None:
        self.language = language
        self.tz = tz
        self._index = 0 if language == "ru" else 1

    def __call__(self, key: str, **params: object) -> str:
        pair = STRINGS.get(key)
        if pair is None:
            return key.rsplit(".", 1)[-1]
        return pair[self._index].format(**params) if params else pair[self._index]

    def word(self, group: str, value: object) -> str:
        """A known value (rule, stock state, …) in words; an unknown one as it is."""
        key = f"{group}.{value}"
        return self(key) if key in STRINGS else str(value)

    def number(self, value: Decimal | int | str | None, places: int | None = None) -> str:
        amount = to_decimal(value)
        if amount is None:
            return "—"
        if places is None:
            places = 0 if amount == amount.to_integral_value() else 2
        text = f"{amount:,.{places}f}"
        if self.language == "ru":
            text = text.replace(",", " ").replace(".", ",").replace("-", "−")
        return text

    def money(self, value: Decimal | int | str | None, currency: str | None = "RUB") -> str:
        if to_decimal(value) is None:
            return "—"
        if self.language == "ru" and currency in (None, "RUB"):
            return f"{self.number(value)} ₽"
        return f"{self.number(value)} {currency or 'RUB'}"

    def pct(self, value: Decimal | int | str | None, signed: bool = True) -> str:
        amount = to_decimal(value)
        if amount is None:
            return "—"
        text = self.number(amount)
        if signed and amount > 0:
            text = "+" + text
        return f"{text} %" if self.language == "ru" else f"{text}%"

    def when(self, value: dt.datetime | str | None) -> str:
        """A UTC time shown in the config's time zone."""
        if value is None or value == "":
            return "—"
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        local = moment.astimezone(self.tz)
        pattern = "%d.%m.%Y %H:%M" if self.language == "ru" else "%Y-%m-%d %H:%M"
        return f"{local.strftime(pattern)} {local.tzname()}"

    def day(self, value: dt.datetime) -> str:
        local = value.astimezone(self.tz)
        return local.strftime("%d.%m.%Y" if self.language == "ru" else "%Y-%m-%d")


def to_decimal(value: Decimal | int | str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
