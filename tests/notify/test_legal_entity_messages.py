"""Marketplace alerts say who is behind the storefront (legal entity, ИНН) and where (region), and a platform
discount or an unlisted storefront reads as what it is, in Russian and English."""

from __future__ import annotations

from typing import Any

import pytest

from crawler.config import Config
from notify.messages import email_alert, telegram_alert

ENTITY = {"tax_id": "7701234507", "ogrn": "1027700132195", "name": "ООО «Тепло»"}


def vitrina_config(language: str = "ru") -> Config:
    return Config.model_validate(
        {
            "distributors": [
                {
                    "code": "vitrina",
                    "name": "Витрина",
                    "kind": "marketplace",
                    "spider": "marketplace",
                    "start_urls": ["http://127.0.0.1:8704/brands/termoline"],
                    "regions": [
                        {"code": "msk", "name": "Москва", "query": {"dest": "-1257786"}},
                        {"code": "spb", "name": "Санкт-Петербург", "query": {"dest": "-1198055"}},
                    ],
                }
            ],
            "notify": {"language": language},
        }
    )


def details(**extra: Any) -> dict[str, Any]:
    return {
        "distributor_code": "vitrina",
        "distributor_name": "Витрина",
        "seller_name": "Тепло Маркет",
        "seller_code": "vitrina:101",
        "seller_authorized": True,
        "url": "http://127.0.0.1:8704/catalog/1001/detail.aspx?dest=-1198055",
        "vendor_code": "TL-1001",
        "product_name": "Обогреватель Термолайн",
        "currency": "RUB",
        "observed_at": "2026-11-23T06:15:00+00:00",
        "region": "spb",
        "legal_entity": ENTITY,
        **extra,
    }


def snapshot(rule: str, d: dict[str, Any], severity: str = "warning") -> dict[str, Any]:
    return {
        "alert_id": 7,
        "event_id": 7,
        "kind": "opened",
        "rule": rule,
        "severity": severity,
        "subject": f"{rule} subject",
        "details": d,
        "at": "2026-11-23T06:00:00+00:00",
        "opened_at": "2026-11-23T06:00:00+00:00",
    }


PRICES = {
    "price_basis": "seller",
    "shown_price": "8000.00",
    "seller_price": "9900.00",
    "card_price": "7800.00",
    "rrp": "10000.00",
    "threshold_price": "9500.00",
    "tolerance_pct": "5.00",
}


def test_a_dumping_alert_names_the_legal_entity_the_region_and_the_prices_it_was_judged_on() -> None:
    d = details(**(PRICES | {"price": "9000.00", "seller_price": "9000.00", "deviation_pct": "-10.00"}))
    text = telegram_alert(snapshot("dumping", d, "critical"), vitrina_config()).text
    assert "Юрлицо: ООО «Тепло», ИНН 7701234507" in text
    assert "Регион: Санкт-Петербург" in text  # the config's name of the region code
    assert "Цена: 9 000 ₽ при РРЦ 10 000 ₽ (−10 %)" in text
    assert "Основа цены: цена продавца" in text
    assert "Цена на витрине: 8 000 ₽" in text
    assert "Цена по карте: 7 800 ₽" in text
    assert text.index("Продавец:") < text.index("Юрлицо:") < text.index("Регион:") < text.index("Цена:")


def test_a_platform_discount_says_the_seller_did_not_make_the_price_low_in_russian() -> None:
    content = email_alert(snapshot("platform_discount", details(**PRICES, price="9900.00"), "info"), vitrina_config())
    assert content.subject.startswith("pricewatch: Скидка площадки — ")
    assert "Цена на витрине: 8 000 ₽ при РРЦ 10 000 ₽ (−20 %)" in content.text
    assert "Цена по карте: 7 800 ₽ при РРЦ 10 000 ₽ (−22 %)" in content.text
    assert "Цена продавца: 9 900 ₽ при РРЦ 10 000 ₽ (−1 %)" in content.text
    assert "это не демпинг продавца" in content.text
    assert "ООО «Тепло», ИНН 7701234507" in content.html  # «» escaped as text, not markup
    assert "Демпинг" not in content.text


def test_a_platform_discount_in_english() -> None:
    text = telegram_alert(
        snapshot("platform_discount", details(**PRICES, price="9900.00"), "info"), vitrina_config("en")
    ).text
    assert "Platform discount" in text
    assert "Legal entity: ООО «Тепло», INN 7701234507" in text
    assert "Region: Санкт-Петербург" in text
    assert "Shown price: 8,000 RUB vs RRP 10,000 RUB (-20%)" in text
    assert "not dumping by the seller" in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", ["Витрина вне списка", "юрлицо авторизовано, но этой витрины нет в списке авторизованных"]),
        ("en", ["Unlisted storefront", "the legal entity is authorised, but this storefront is not on the"]),
    ],
)
def test_an_unlisted_storefront_says_the_entity_is_authorised_but_the_storefront_is_not(
    language: str, expected: list[str]
) -> None:
    text = telegram_alert(snapshot("unlisted_storefront", details()), vitrina_config(language)).text
    for phrase in expected:
        assert phrase in text


def test_a_shop_alert_has_no_legal_entity_or_region_lines() -> None:
    d = details(**{"legal_entity": None, "region": None, "price": "9000.00", "rrp": "10000.00"})
    text = telegram_alert(snapshot("dumping", d), vitrina_config()).text
    assert "Юрлицо" not in text
    assert "Регион" not in text
    assert "Основа цены" not in text


def test_an_entity_known_only_by_its_tax_id_and_a_region_the_config_no_longer_has() -> None:
    d = details(legal_entity={"tax_id": "771234567890", "ogrn": None, "name": None}, region="nsk")
    text = telegram_alert(snapshot("parallel_import", d), vitrina_config()).text
    assert "Юрлицо: ИНН 771234567890" in text
    assert "Регион: nsk" in text
