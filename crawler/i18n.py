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
    "rule.assortment_gap": ("Нет в ассортименте", "Assortment gap"),
    "rule.platform_discount": ("Скидка площадки", "Platform discount"),
    "rule.unlisted_storefront": ("Витрина вне списка", "Unlisted storefront"),
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
    "gone.delisted": ("снят с продажи", "delisted"),
    "gone.seller_left": ("продавец пропал с карточки", "seller left the card"),
    "gap.never_listed": ("не представлен", "not listed"),
    "gap.not_in_stock": ("нет в наличии с первого появления", "not in stock since first seen"),
    "health.ok": ("в норме", "ok"),
    "health.degraded": ("деградация", "degraded"),
    "health.failed": ("сбой", "failed"),
    "run.running": ("идёт сбор", "running"),
    "run.finished": ("завершён", "finished"),
    "run.failed": ("сбой", "failed"),
    "alert.open": ("открыто", "open"),
    "alert.resolved": ("устранено", "resolved"),
    "signal.unauthorized_seller": ("продавец не авторизован", "seller not authorized"),
    "signal.foreign_marker": ("признак иностранной версии", "foreign-version marker"),
    "signal.foreign_gtin": ("чужой штрихкод (EAN)", "EAN not in the catalog"),
    "signal.below_dealer_price": ("цена ниже дилерской", "price below the dealer price"),
    "label.seller": ("Продавец", "Seller"),
    "label.price": ("Цена", "Price"),
    "label.rrp": ("РРЦ", "RRP"),
    "label.deviation": ("Отклонение", "Deviation"),
    "label.price_vs_rrp": ("{price} при РРЦ {rrp} ({deviation})", "{price} vs RRP {rrp} ({deviation})"),
    "label.price_now": ("Цена сейчас", "Price now"),
    "label.price_was": ("Была", "Was"),
    "label.stock_now": ("Наличие сейчас", "Stock now"),
    "label.threshold": ("Порог", "Threshold"),
    "label.threshold_value": ("{price} (допуск {tolerance})", "{price} (tolerance {tolerance})"),
    "label.days_in_violation": ("Дней с нарушением", "Days in violation"),
    "label.repeat_offences": ("Повторных нарушений", "Repeat offences"),
    "label.promo": ("Акция", "Promo"),
    "label.stock": ("Наличие", "Stock"),
    "label.last_in_stock": ("Последний раз в наличии", "Last in stock"),
    "label.assortment": ("Ассортимент", "Assortment"),
    "label.planned": ("План на месяц", "Planned this month"),
    "label.planned_value": ("{quantity} шт.", "{quantity} pcs"),
    "label.lost_sales": ("Упущенные продажи", "Lost sales"),
    "label.lost_sales_value": ("{lost} за {days} дн.", "{lost} over {days} days"),
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
    "label.open_panel": ("Открыть в панели", "Open in the panel"),
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
    "digest.attachment_bundle": (
        "Отчёт о нарушениях во вложении: архив ZIP с таблицей XLSX, PDF и доказательствами (скриншоты, страницы "
        "HTML). Распакуйте его целиком: ссылки в таблице ведут в папку evidence рядом с ней.",
        "The violations report is attached: a ZIP with the XLSX, the PDF and the evidence (screenshots, HTML "
        "pages). Unpack it whole: the table's links point to the evidence folder beside it.",
    ),
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
    "stamp.captured": ("Снято: {local} · {utc}", "Captured: {local} · {utc}"),
    "stamp.sha256": ("SHA-256 снимка до штампа: {sha256}", "SHA-256 of the capture before this stamp: {sha256}"),
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
    "bot.report_usage": (
        "Использование: /report [дистрибьютор] [число дней | с [по]], даты — ГГГГ-ММ-ДД или ДД.ММ.ГГГГ; "
        "например /report techsnab 7 или /report 01.11.2026 30.11.2026",
        "Usage: /report [distributor] [days | from [to]], dates as YYYY-MM-DD or DD.MM.YYYY; "
        "e.g. /report techsnab 7 or /report 2026-11-01 2026-11-30",
    ),
    "bot.report_ready": ("Отчёт о нарушениях: файлов {n}.", "The violations report: {n} files."),
    "bot.report_caption": (
        "Нарушения РРЦ — {scope}, {start} — {end}. Нарушений: {violations}, макс. отклонение {deepest}, "
        "дней без товара: {stock_days}.",
        "RRP violations — {scope}, {start} to {end}. Violations: {violations}, deepest {deepest}, "
        "days out of stock: {stock_days}.",
    ),
    "bot.report_bundle_caption": (
        "XLSX и PDF с доказательствами (скриншоты, страницы HTML). Распакуйте архив целиком: ссылки в таблице "
        "ведут в папку evidence рядом с ней.",
        "XLSX and PDF with the evidence (screenshots, HTML pages). Unpack the whole archive: the table's links "
        "point to the evidence folder beside it.",
    ),
    "bot.report_xlsx_caption": (
        "Таблица XLSX: все нарушения и история цен; ссылки на доказательства ведут в панель.",
        "The XLSX: every violation and the price history; evidence links open the panel.",
    ),
    "bot.greeting": (
        "Здравствуйте! Я бот pricewatch: сообщаю о нарушениях РРЦ, отсутствии товара и параллельном импорте и "
        "отвечаю на команды.",
        "Hello! I am the pricewatch bot: I report RRP violations, stock-outs and parallel imports, and answer "
        "commands.",
    ),
    "bot.help_title": ("Команды", "Commands"),
    "bot.help_scope_all": ("Этот чат видит всех дистрибьюторов", "This chat sees every distributor"),
    "bot.help_scope_some": ("Этот чат видит только", "This chat sees only"),
    "bot.help_examples": (
        "Например: /violations techsnab · /sku TL-1001 · /report techsnab 30",
        "For example: /violations techsnab · /sku TL-1001 · /report techsnab 30",
    ),
    "bot.unknown_command": (
        "Не знаю команды {command}. Список команд — /help.",
        "I do not know the command {command}. The commands: /help.",
    ),
    "bot.plain_text": (
        "Я отвечаю на команды, например /violations или /sku TL-1001. Список команд — /help.",
        "I answer commands, such as /violations or /sku TL-1001. The commands: /help.",
    ),
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
    "bot.cmd.report": (
        "отчёт о нарушениях PDF и XLSX: /report [дистрибьютор] [дней | с [по]]",
        "the violations report, PDF and XLSX: /report [distributor] [days | from [to]]",
    ),
    "bot.cmd.help": ("что умеет бот", "what the bot can do"),
    "bot.cmd.mute": ("отключить: /mute rule|distributor X", "mute: /mute rule|distributor X"),
    "bot.cmd.unmute": ("включить: /unmute [rule|distributor X]", "unmute: /unmute [rule|distributor X]"),
    # Why an offer was matched to a product or refused (pipelines/match_reason.py).
    "match.rule.manual": ("решение человека", "a person's decision"),
    "match.rule.alias": ("решение человека по такому же названию", "a person's decision on the same title"),
    "match.rule.gtin": ("по штрихкоду", "by GTIN"),
    "match.rule.vendor_code": ("по артикулу", "by vendor code"),
    "match.rule.vendor_code_affix": ("по артикулу без префикса/суффикса сайта", "by vendor code, site affix removed"),
    "match.rule.title_code": ("артикул в названии", "vendor code in the title"),
    "match.rule.title_code_no_brand": ("артикул в названии без бренда", "vendor code in a title without the brand"),
    "match.rule.model": ("модель в названии", "model in the title"),
    "match.rule.model_line": ("серия модели в названии", "model line in the title"),
    "match.rule.name": ("по названию", "by name"),
    "match.rule.not_ours": ("не наш товар (решение человека)", "not ours (a person's decision)"),
    "match.rule.no_title": ("нет названия", "no title"),
    "match.rule.no_brand": ("в названии нет бренда", "no brand in the title"),
    "match.rule.other_brand": ("другой бренд", "another brand"),
    "match.rule.compatible": ("совместимый товар («для …»)", "compatible goods («for …»)"),
    "match.rule.accessory": ("аксессуар", "an accessory"),
    "match.rule.codes": ("несколько артикулов в названии", "several vendor codes in the title"),
    "match.rule.unknown_code": ("артикула нет в каталоге", "vendor code not in the catalog"),
    "match.rule.unknown_model": ("модели нет в каталоге", "model not in the catalog"),
    "match.rule.conflict": ("противоречит товару", "contradicts the product"),
    "match.rule.variant": ("не понятно, какой вариант", "which variant is not said"),
    "match.rule.below_threshold": ("название недостаточно похоже", "name not close enough"),
    "match.rule.low_margin": ("два товара почти одинаково похожи", "two products about equally close"),
    "match.rule.model_words": ("модель та, но товар другой", "the model matches, the product does not"),
    "match.rule.no_candidate": ("нет подходящего товара", "no candidate"),
    "match.candidate": ("лучший кандидат {code}", "best candidate {code}"),
    "match.score": ("оценка {score}", "score {score}"),
    "match.margin": ("отрыв {margin}", "margin {margin}"),
    "match.conflicts": ("противоречия", "conflicts"),
    "match.missing": ("нет в названии", "not in the title"),
    "match.role.power": ("мощность, Вт", "power, W"),
    "match.role.voltage": ("напряжение, В", "voltage, V"),
    "match.role.capacity": ("ёмкость, Ач", "capacity, Ah"),
    "match.role.batteries": ("аккумуляторов", "batteries"),
    "match.role.energy": ("энергия удара, Дж", "impact energy, J"),
    "match.role.torque": ("момент, Нм", "torque, Nm"),
    "match.role.size": ("размер, мм", "size, mm"),
    "match.role.length": ("длина, м", "length, m"),
    "match.role.area": ("площадь, м²", "area, m²"),
    "match.role.volume": ("объём, л", "volume, l"),
    "match.role.weight": ("вес, кг", "weight, kg"),
    "match.role.speed": ("обороты, об/мин", "speed, rpm"),
    "match.role.sections": ("секций", "sections"),
    "match.role.teeth": ("зубьев", "teeth"),
    "match.role.count": ("штук в упаковке", "pieces in the pack"),
    "match.role.kit": ("комплектация", "kit"),
    "match.role.colour": ("цвет", "colour"),
    "match.role.model": ("модель", "model"),
    "match.role.number": ("число из названия", "a number of the name"),
    "match.role.word": ("слово серии", "a model line's word"),
    "match.value.kit": ("с АКБ", "with batteries"),
    "match.value.body": ("без АКБ", "body only"),
    "bot.cmd.cases": ("открытые обращения к продавцам", "open cases with sellers"),
    "bot.cases_title": ("Открытые обращения", "Open cases"),
    "bot.cases_none": ("Открытых обращений нет.", "No open cases."),
    "bot.case_approved": ("Одобрено: уведомление уходит продавцу", "Approved: the notice goes to the seller"),
    "bot.case_approved_waiting": ("Одобрено; у продавца пока нет контакта", "Approved; the seller has no contact yet"),
    "bot.case_approved_held": (
        "Одобрено; уведомление уйдёт после исправного сбора",
        "Approved; the notice goes after a healthy crawl",
    ),
    "bot.case_refused": ("Не одобрено: {reason}", "Not approved: {reason}"),
    "bot.case_unknown": ("Обращение не найдено", "Case not found"),
    "case.detected": ("выявлено", "detected"),
    "case.notified": ("уведомление отправлено", "notified"),
    "case.acknowledged": ("продавец ответил", "acknowledged"),
    "case.escalated": ("эскалация", "escalated"),
    "case.fixed": ("исправлено", "fixed"),
    "case.closed": ("закрыто", "closed"),
    "case.awaiting_approval": ("ждёт одобрения", "awaiting approval"),
    "case.no_contact": ("нет контакта", "no contact"),
    "label.case_due": ("срок {date}", "due {date}"),
    "label.case_violations": ("нарушений: {n}", "violations: {n}"),
    "label.case_repeat": ("повторное", "relapse"),
    # Legal entities, price basis and regions in the alert messages (issue 19).
    "basis.seller": ("цена продавца", "the seller's price"),
    "basis.shown": ("цена на витрине", "the shown price"),
    "basis.card": ("цена по карте", "the card price"),
    "label.legal_entity": ("Юрлицо", "Legal entity"),
    "label.legal_entity_value": ("{name}, ИНН {tax_id}", "{name}, INN {tax_id}"),
    "label.tax_id_value": ("ИНН {tax_id}", "INN {tax_id}"),
    "label.marketplace": ("Маркетплейс", "Marketplace"),
    "label.price_basis": ("Основа цены", "Price basis"),
    "label.shown_price": ("Цена на витрине", "Shown price"),
    "label.seller_price": ("Цена продавца", "Seller's price"),
    "label.card_price": ("Цена по карте", "Card price"),
    "label.storefront": ("Витрина", "Storefront"),
    "label.note": ("Пояснение", "Note"),
    "note.platform_discount": (
        "цену ниже порога дала скидка площадки; собственная цена продавца не ниже порога — это не демпинг продавца",
        "the platform's discount made the price low; the seller's own price is at or above the threshold — not "
        "dumping by the seller",
    ),
    "note.unlisted_storefront": (
        "юрлицо авторизовано, но этой витрины нет в списке авторизованных",
        "the legal entity is authorised, but this storefront is not on the authorised list",
    ),
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
