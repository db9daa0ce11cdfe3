"""Table headers and values of the command line in the configured language (`notify.language`).

A command names its columns by key with an English header; the Russian header comes from here, by key, so one
key means one thing in every table. Values that are codes of a known kind (a rule, a severity, a health verdict,
a stock state, a status) are shown in words, and money as the messages write it (crawler/i18n.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crawler.i18n import Texts

RUSSIAN: dict[str, str] = {
    "id": "№",
    "rule": "правило",
    "severity": "важность",
    "status": "статус",
    "distributor_code": "дистрибьютор",
    "distributor": "дистрибьютор",
    "distributors": "дистрибьюторы",
    "subject": "суть",
    "opened_at": "открыто",
    "last_seen_at": "последний раз",
    "resolved_at": "устранено",
    "seen_count": "раз",
    "field": "поле",
    "value": "значение",
    "kind": "событие",
    "at": "когда",
    "pages": "страниц",
    "offers": "предложений",
    "errors": "ошибок",
    "duration": "секунд",
    "health": "состояние",
    "reason": "причина",
    "url": "адрес",
    "node": "узел",
    "detail": "подробности",
    "busy": "занято",
    "running": "идут",
    "pending": "в очереди",
    "rows": "строк",
    "new_products": "новых товаров",
    "updated_products": "обновлено",
    "unchanged_products": "без изменений",
    "gtins_added": "добавлено EAN",
    "warnings": "предупреждений",
    "price_list_id": "№ прайс-листа",
    "version": "версия",
    "valid_from": "действует с",
    "vendor_code": "артикул",
    "name": "название",
    "category": "категория",
    "brand": "бренд",
    "gtins": "EAN",
    "rrp": "РРЦ",
    "map_price": "МРЦ",
    "dealer_price": "дилерская",
    "opened": "открыто",
    "ongoing": "продолжается",
    "resolved": "устранено",
    "entries": "позиций плана",
    "inserted": "новых",
    "replaced": "заменено",
    "months": "месяцы",
    "channel": "канал",
    "recipient": "получатель",
    "mode": "режим",
    "text": "текст",
    "step": "шаг",
    "ok": "успешно",
    "tax_id": "ИНН",
    "legal_name": "наименование",
    "ogrn": "ОГРН",
    "authorized": "авторизован",
    "storefronts": "витрины",
    "source": "источник",
    "contract": "договор",
    "entities": "юрлиц",
    "in_config": "из конфига",
}
MONEY = frozenset({"rrp", "map_price", "dealer_price", "price", "old_price", "lost_sales"})
# key → the crawler/i18n word group its codes belong to
WORDS = {"rule": "rule", "severity": "severity", "health": "health", "stock": "stock", "kind": "kind"}
STATUS_WORDS = ("run", "alert")  # a status is a crawl run's or an alert's
# key → its yes/no, for columns whose value is a bool
YES_NO = {"authorized": (("да", "нет"), ("yes", "no"))}


def header(texts: Texts | None, key: str, english: str) -> str:
    if texts is None or texts.language != "ru":
        return english
    return RUSSIAN.get(key, english)


def cell(texts: Texts | None, key: str, value: Any) -> Any:
    """A value as the table shows it in the language (as it is without `texts`)."""
    if texts is not None and isinstance(value, bool) and key in YES_NO:
        words = YES_NO[key][0 if texts.language == "ru" else 1]
        return words[0] if value else words[1]
    if texts is None or value is None or isinstance(value, bool):
        return value
    if key in MONEY and isinstance(value, Decimal):
        return texts.money(value)
    if key in WORDS:
        return texts.word(WORDS[key], value)
    if key == "status":
        for group in STATUS_WORDS:
            shown = texts.word(group, value)
            if shown != str(value):
                return shown
    return value
