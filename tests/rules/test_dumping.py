"""Dumping: the latest firm price below RRP × (1 − tolerance) — thresholds, overrides, promos, RRP by date,
days in violation and repeat offences."""

from __future__ import annotations

import datetime as dt

from crawler.items import FLAG_PRICE_FROM, FLAG_PRICE_MISSING, FLAG_PRICE_ON_REQUEST
from tests.support.builders import Seen, day
from tests.support.rules_world import MakeWorld, evaluate, found, history


def test_price_below_the_tolerance_opens_a_warning_with_its_numbers(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="9400"), Seen("TL-1002", price="1900")])  # −6 %, −5 %
    evaluate(world)

    dumping = found(world, "dumping")
    assert list(dumping) == ["shop/TL-1001"]  # exactly at the threshold (1 900 = 2 000 × 0.95) is no dumping
    alert = dumping["shop/TL-1001"]
    assert alert.severity == "warning"
    assert alert.details | {"observed_at": None, "url": None} == {
        "distributor_code": "shop",
        "distributor_name": "Магазин",
        "seller_name": "Магазин",
        "seller_code": "shop",
        "seller_authorized": True,
        "url": None,
        "vendor_code": "TL-1001",
        "product_name": "Термолайн TL-1001",
        "category": "Обогреватели",
        "currency": "RUB",
        "observed_at": None,
        "price": "9400.00",
        "rrp": "10000.00",
        "threshold_price": "9500.00",
        "deviation_pct": "-6.00",
        "tolerance_pct": "5.00",
        "days_in_violation": 1,
        "repeat_offences": 0,
        "promo": None,
        "price_basis": "seller",  # a shop has one price: the shown one is the seller's
        "shown_price": "9400.00",
        "seller_price": None,
        "card_price": None,
        "region": None,
        "legal_entity": None,
    }
    assert dt.datetime.fromisoformat(alert.details["observed_at"]) == day(1)
    # Money and percentages as the messages write them (crawler.i18n), not as decimal strings.
    assert alert.subject == "Демпинг: TL-1001 Термолайн TL-1001 — Магазин: 9 400 ₽ при РРЦ 10 000 ₽ (−6 %)"


def test_deviation_at_the_critical_depth_is_critical(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="8500"), Seen("TL-1002", price="1750")])  # −15 %, −12.5 %
    evaluate(world)

    severities = {key: a.severity for key, a in found(world, "dumping").items()}
    assert severities == {"shop/TL-1001": "critical", "shop/TL-1002": "warning"}


def test_overrides_by_distributor_then_vendor_code_then_category(make_world: MakeWorld) -> None:
    world = make_world(
        rules={
            "dumping": {
                "by_category": {"Обогреватели": 10},
                "by_vendor_code": {"tl 1002": 2},  # compared normalized
                "by_distributor": {"shop2": 20},
            }
        }
    )
    world.crawl("shop", day(1), [Seen("TL-1001", price="9300"), Seen("TL-1002", price="1950")])  # −7 %, −2.5 %
    world.crawl("shop2", day(1), [Seen("TL-1001", price="8500"), Seen("TL-1002", price="1700")])  # −15 %, −15 %
    evaluate(world)

    tolerances = {key: a.details["tolerance_pct"] for key, a in found(world, "dumping").items()}
    # shop/TL-1001: −7 % within the category's 10 %; shop2: its 20 % wins over the category and the code.
    assert tolerances == {"shop/TL-1002": "2.00"}


def test_promo_window_exempts_and_a_promo_tolerance_allows_deeper(make_world: MakeWorld) -> None:
    promos = [
        # Local dates: the window covers days 1 and 2 (Moscow), no tolerance given: exempt.
        {"name": "Зимняя распродажа", "start": "2026-03-02", "end": "2026-03-03", "categories": ["Обогреватели"]},
        {
            "name": "Вентиляторы −20",
            "start": "2026-03-01",
            "end": "2026-03-31",
            "vendor_codes": ["TL-1002"],
            "distributors": ["shop"],
            "tolerance_pct": 20,
        },
    ]
    world = make_world(rules={"dumping": {"promos": promos}})
    world.crawl("shop", day(1), [Seen("TL-1001", price="8000"), Seen("TL-1002", price="1700")])  # −20 %, −15 %
    world.crawl("shop2", day(1), [Seen("TL-1002", price="1700")])  # the promo is not for shop2
    evaluate(world)
    assert {k: a.details["promo"] for k, a in found(world, "dumping").items()} == {"shop2/TL-1002": None}

    world.crawl("shop", day(3), [Seen("TL-1001", price="8000"), Seen("TL-1002", price="1500")])  # after the sale; −25 %
    evaluate(world)
    promo_of = {k: a.details["promo"] for k, a in found(world, "dumping").items()}
    assert promo_of == {"shop/TL-1001": None, "shop/TL-1002": "Вентиляторы −20", "shop2/TL-1002": None}
    assert found(world, "dumping")["shop/TL-1002"].details["tolerance_pct"] == "20.00"


def test_rrp_is_the_version_in_force_on_the_observation_local_date(make_world: MakeWorld) -> None:
    world = make_world()
    world.price_list(dt.date(2026, 3, 4), {"TL-1001": "12000"})  # in force from day 3 (Moscow)
    world.crawl("shop", day(1), [Seen("TL-1001", price="9900")])  # −1 % of the old RRP
    world.crawl("shop", day(2), [Seen("TL-1001", price="9400")])  # −6 % of the old RRP
    # 00:30 on day 3 in Moscow is still day 2 in UTC: the new price list applies already.
    world.crawl("shop", day(3, hours=-7.5), [Seen("TL-1001", price="11000")])  # −8.33 % of the new RRP
    evaluate(world)

    details = found(world, "dumping")["shop/TL-1001"].details
    assert (details["rrp"], details["deviation_pct"]) == ("12000.00", "-8.33")
    # Day 2 violated the old RRP and day 3 the new one: two days in a row; day 1 did not.
    assert details["days_in_violation"] == 2


def test_days_in_violation_count_back_to_the_last_clear_price_and_repeats_count_earlier_episodes(
    make_world: MakeWorld,
) -> None:
    world = make_world()
    prices = {1: "9000", 2: "9000", 3: "10000", 4: "9000", 5: None, 6: "9100"}
    for n, price in prices.items():
        flags = (FLAG_PRICE_MISSING,) if price is None else ()
        world.crawl("shop", day(n), [Seen("TL-1001", price=price, flags=flags)])
        evaluate(world)

    alert = found(world, "dumping")["shop/TL-1001"]
    # Days 4–6: the page that lost its price on day 5 neither ends nor breaks the spell (and kept the alert open).
    assert alert.details["days_in_violation"] == 3
    assert alert.details["repeat_offences"] == 1  # days 1–2
    assert history(world, "dumping") == [
        ("shop/TL-1001", "opened"),
        ("shop/TL-1001", "ongoing"),
        ("shop/TL-1001", "resolved"),
        ("shop/TL-1001", "opened"),
        ("shop/TL-1001", "ongoing"),
    ]


def test_no_firm_price_no_dumping_and_a_stated_non_price_resolves(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl(
        "shop",
        day(1),
        [
            Seen("TL-1001", price="9000"),
            Seen("TL-1002", price="1000", flags=(FLAG_PRICE_FROM,)),  # «от 1 000 ₽» is a lower bound
        ],
    )
    world.crawl("shop2", day(1), [Seen("TL-1001", price="90", currency="USD")])  # another currency: not compared
    evaluate(world)
    assert list(found(world, "dumping")) == ["shop/TL-1001"]

    world.crawl("shop", day(2), [Seen("TL-1001", price=None, flags=(FLAG_PRICE_ON_REQUEST,))])
    evaluate(world)
    assert found(world, "dumping") == {}
    assert history(world, "dumping")[-1] == ("shop/TL-1001", "resolved")
