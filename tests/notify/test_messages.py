"""Message texts: every rule's numbers in words, Russian and English formats, Telegram's length limit."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crawler.i18n import Texts
from notify.messages import TELEGRAM_LIMIT, digest_view, shown_gtins, telegram_alert, telegram_digest


def snapshot(rule: str, details: dict[str, Any], kind: str = "opened", alert_id: int = 1) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "event_id": alert_id,
        "kind": kind,
        "rule": rule,
        "severity": "warning",
        "subject": f"{rule} subject",
        "details": details,
        "at": "2026-11-23T06:00:00+00:00",
        "opened_at": "2026-11-22T06:00:00+00:00",
    }


@pytest.mark.parametrize(
    ("rule", "details", "expected"),
    [
        (
            "stock_out",
            {"previous_stock": "in_stock", "stock": "out_of_stock", "last_in_stock_at": "2026-11-22T06:00:00+00:00"},
            ["Наличие: в наличии → нет в наличии", "Последний раз в наличии: 22.11.2026 09:00 MSK"],
        ),
        (
            "stock_out",
            {"previous_stock": "in_stock", "stock": "out_of_stock", "gone": "seller_left"},
            ["Наличие: в наличии → продавец пропал с карточки"],
        ),
        (
            "stock_out",
            {"previous_stock": "in_stock", "stock": "out_of_stock", "gone": "delisted"},
            ["Наличие: в наличии → снят с продажи"],
        ),
        (
            "assortment_gap",
            {"gap": "never_listed", "planned_quantity": 31, "lost_sales": "20000.00", "gap_days": 2, "currency": "RUB"},
            ["Ассортимент: не представлен", "План на месяц: 31 шт.", "Упущенные продажи: 20 000 ₽ за 2 дн."],
        ),
        ("low_stock", {"quantity": 2, "threshold": 3}, ["Остаток: 2 шт. (порог 3)"]),
        (
            "regional_shortage",
            {"region": "Москва", "distributors": ["techsnab", "klimatprof"]},
            ["Регион: Москва", "Дистрибьюторы: techsnab, klimatprof"],
        ),
        (
            "parallel_import",
            {
                "signals": [
                    {"signal": "unauthorized_seller", "detail": "Ромашка"},
                    {"signal": "foreign_marker", "detail": "глобальная версия"},
                ],
                "price": "9990.00",
                "dealer_price": "9000.00",
                "currency": "RUB",
            },
            [
                "Признаки: продавец не авторизован (Ромашка); признак иностранной версии (глобальная версия)",
                "Цена: 9 990 ₽",
                "Дилерская цена: 9 000 ₽",
            ],
        ),
        (
            "price_move",
            {"previous_price": "12990.00", "price": "9990.50", "change_pct": "-23.09"},
            ["Изменение: 12 990 ₽ → 9 990,50 ₽ (−23,09 %)"],
        ),
        (
            "crawler_health",
            {"health": "degraded", "reason": "offers fell by 80 %", "offers": 12, "last_good_offers": 140},
            [
                "Состояние: деградация",
                "Причина: offers fell by 80 %",
                "Предложений: 12 (в последнем успешном сборе 140)",
            ],
        ),
    ],
)
def test_each_rule_shows_its_numbers(rule: str, details: dict[str, Any], expected: list[str], make_config: Any) -> None:
    message = telegram_alert(snapshot(rule, details), make_config())
    for line in expected:
        assert line in message.text
    assert bool(message.buttons) == (rule == "parallel_import")


def test_number_formats_by_language() -> None:
    ru, en = Texts("ru", ZoneInfo("UTC")), Texts("en", ZoneInfo("UTC"))
    assert ru.money("1234567.5") == "1 234 567,50 ₽"
    assert en.money("1234567.5") == "1,234,567.50 RUB"
    assert ru.money("99", "EUR") == "99 EUR"
    assert (ru.pct("-12.50"), ru.pct("3"), en.pct("-12.50")) == ("−12,50 %", "+3 %", "-12.50%")
    assert ru.money(None) == "—"


def test_a_huge_digest_still_fits_one_telegram_message(make_config: Any) -> None:
    snaps = [
        snapshot(
            "dumping",
            {
                "product_name": f"Товар номер {i} с длинным названием",
                "vendor_code": f"TL-{i}",
                "price": "100.00",
                "rrp": "200.00",
                "deviation_pct": "-50.00",
                "url": f"http://shop.test/{i}",
            },
            alert_id=i,
        )
        for i in range(300)
    ]
    config = make_config()
    text = telegram_digest(digest_view(snaps, config, dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC)), config)
    assert len(text) <= TELEGRAM_LIMIT
    assert "• Демпинг: 300 / 0 / 0" in text
    assert text.rstrip().splitlines()[-1].startswith("…и ещё ")


def test_a_resolved_dumping_shows_the_price_now_beside_the_one_in_violation(make_config: Any) -> None:
    details = {
        "price": "12090.00",
        "rrp": "12990.00",
        "deviation_pct": "-6.93",
        "currency": "RUB",
        "current_price": "12990.00",
        "current_currency": "RUB",
        "current_stock": "in_stock",
    }
    text = telegram_alert(snapshot("dumping", details, kind="resolved"), make_config()).text
    lines = text.splitlines()
    assert "Цена сейчас: 12 990 ₽ при РРЦ 12 990 ₽ (0 %)" in lines
    assert "Была: 12 090 ₽ при РРЦ 12 990 ₽ (−6,93 %)" in lines
    assert lines.index("Цена сейчас: 12 990 ₽ при РРЦ 12 990 ₽ (0 %)") < lines.index(
        "Была: 12 090 ₽ при РРЦ 12 990 ₽ (−6,93 %)"
    )
    opened = telegram_alert(
        snapshot("dumping", {k: details[k] for k in ("price", "rrp", "deviation_pct")}), make_config()
    )
    assert "Цена: 12 090 ₽ при РРЦ 12 990 ₽ (−6,93 %)" in opened.text.splitlines()


def test_other_resolved_alerts_say_what_the_listing_shows_now(make_config: Any) -> None:
    details = {
        "previous_stock": "in_stock",
        "stock": "out_of_stock",
        "current_price": "3290.00",
        "current_stock": "in_stock",
    }
    text = telegram_alert(snapshot("stock_out", details, kind="resolved"), make_config()).text
    assert "Цена сейчас: 3 290 ₽" in text.splitlines()
    assert "Наличие сейчас: в наличии" in text.splitlines()


def test_an_ean13_stored_as_a_gtin14_is_shown_with_13_digits(make_config: Any) -> None:
    details = {
        "signals": [
            {"signal": "foreign_gtin", "detail": "EAN 04607123010051 не из каталога для TL-1005 (04607123110058)"}
        ]
    }
    text = telegram_alert(snapshot("parallel_import", details), make_config()).text
    assert "EAN 4607123010051 не из каталога для TL-1005 (4607123110058)" in text
    assert "04607123010051" not in text
    assert shown_gtins("10614141000415 и 00012345678905") == "10614141000415 и 0012345678905"
