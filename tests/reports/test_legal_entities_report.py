"""Reports count marketplace offenders by legal entity, split the seller's dumping from the platform's discounts,
show the region, the price basis and the three prices, and give a distributor its buyers' marketplace findings."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import event

from crawler.items import StockState
from reports.data import ReportData, collect_report
from reports.labels import texts_for
from reports.output import render
from reports.pdf import render_html
from storage.models import LegalEntity, Listing, MatchMethod, Observation, Seller, SellerKind

E1, E2 = "7701234567", "771234567890"


def _observe(s: Any, listing: str, day: int, shown: str, seller: str | None, card: str | None = None) -> None:
    """An observation at the marketplace with its shown, seller's and card prices."""
    b = s.builder
    run_id = b.run("market", day, 12)
    b.add(
        f"obs-{listing}-{day}",
        Observation(
            listing_id=b.ids[listing],
            crawl_run_id=run_id,
            observed_at=s.at(day, 12, 5),
            price=Decimal(shown),
            seller_price=None if seller is None else Decimal(seller),
            card_price=None if card is None else Decimal(card),
            currency="RUB",
            stock=StockState.IN_STOCK,
        ),
    )


@pytest.fixture
def world(blank_scenario: Any) -> Any:
    """A distributor and a marketplace: two legal entities (one buys from the distributor), four storefronts
    (one of no known entity), a platform discount, a seller's dumping, an unlisted storefront, a parallel import."""
    s = blank_scenario
    b = s.builder
    b.distributor("techsnab", "ТехСнаб")
    b.distributor("market", "МаркетПлюс", SellerKind.MARKETPLACE)
    b.add(
        "e1",
        LegalEntity(
            tax_id=E1,
            ogrn="1027700132195",
            legal_name="ООО «Тепло»",
            distributor_id=b.ids["techsnab"],
            authorized=True,
            source="config",
        ),
    )
    b.add(
        "e2",
        LegalEntity(tax_id=E2, ogrn="304770000012345", legal_name="ИП Иванов", authorized=False, source="marketplace"),
    )
    for key, name, entity, authorized in (
        ("s-a", "Тепло Маркет", "e1", True),
        ("s-b", "Тепло Дисконт", "e1", False),
        ("s-c", "Иванов Шоп", "e2", False),
        ("s-d", "Неизвестный", None, False),
    ):
        b.add(
            key,
            Seller(
                distributor_id=b.ids["market"],
                code=key,
                name=name,
                authorized=authorized,
                legal_entity_id=b.ids[entity] if entity else None,
            ),
        )
    b.product("p1", "TL-1001", "Обогреватель Термолайн ОМ-1001")
    b.price_list("pl", s.at(1, 0).date().replace(day=1), {"p1": "10000"})
    for key, seller, region in (
        ("l-a", "s-a", "msk"),
        ("l-b", "s-b", "spb"),
        ("l-c", "s-c", "msk"),
        ("l-d", "s-d", None),
    ):
        b.add(
            key,
            Listing(
                seller_id=b.ids[seller],
                url=f"http://127.0.0.1:8704/catalog/{key}/detail.aspx",
                product_id=b.ids["p1"],
                match_method=MatchMethod.VENDOR_CODE,
                match_confidence=1.0,
                region=region,
            ),
        )
    for day in (1, 2, 3):
        _observe(s, "l-a", day, "8000", "9900", "7800")  # only the platform's discount is below the threshold
        _observe(s, "l-b", day, "10000", "10000")
        _observe(s, "l-c", day, "6500", "7000")  # the seller's own price is the low one
        _observe(s, "l-d", day, "9800", None)
    common = {"region": None, "legal_entity": None, "rrp": "10000.00"}
    b.alert(
        "a-pd",
        "platform_discount",
        "l-a",
        "p1",
        "market",
        s.at(1, 12, 40),
        s.at(3, 12, 40),
        details=common
        | {
            "price_basis": "seller",
            "price": "9900.00",
            "region": "msk",
            "legal_entity": {"tax_id": E1, "ogrn": None, "name": "ООО «Тепло»"},
        },
    )
    b.alert(
        "a-dump",
        "dumping",
        "l-c",
        "p1",
        "market",
        s.at(1, 12, 40),
        s.at(3, 12, 40),
        details=common | {"price_basis": "seller", "price": "7000.00", "region": "msk"},
    )
    b.alert(
        "a-uls", "unlisted_storefront", "l-b", "p1", "market", s.at(2, 12, 40), s.at(3, 12, 40), resolved_at=s.at(3, 13)
    )
    b.alert(
        "a-pi",
        "parallel_import",
        "l-d",
        "p1",
        "market",
        s.at(1, 12, 40),
        s.at(3, 12, 40),
        details={"signals": [{"signal": "unauthorized_seller", "detail": "Неизвестный"}]},
    )
    return s


def _collect(world: Any, distributor: str | None) -> ReportData:
    return collect_report(
        world.engine, world.config, distributor=distributor, date_from="2026-03-01", date_to="2026-03-10"
    )


def test_the_marketplace_report_groups_its_findings_by_legal_entity(world: Any) -> None:
    offenders = _collect(world, "market").offenders()
    assert [o.entity.tax_id if o.entity else None for o in offenders] == [E1, E2, None]
    e1, e2, unknown = offenders
    assert e1.entity is not None
    assert e1.entity.supplier_code == "techsnab"
    assert e1.entity.authorized
    assert [(f.name, f.authorized) for f in e1.storefronts] == [("Тепло Дисконт", False), ("Тепло Маркет", True)]
    assert e1.by_rule == {"platform_discount": 1, "unlisted_storefront": 1}
    assert e1.seller_violations == 1
    assert e1.open_now == 1
    assert e2.by_rule == {"dumping": 1}
    assert e2.worst_deviation_pct == Decimal("-30.00")
    assert [f.name for f in unknown.storefronts] == ["Неизвестный"]
    assert unknown.by_rule == {"parallel_import": 1}


def test_dumping_is_priced_on_the_sellers_own_price_and_the_platform_discount_is_apart(world: Any) -> None:
    data = _collect(world, "market")
    (dumping,) = [v for v in data.violations if v.rule == "dumping"]
    assert (dumping.price, dumping.deviation_pct) == (Decimal("7000"), Decimal("-30.00"))  # not the shown 6 500
    assert (dumping.shown_price, dumping.seller_price, dumping.price_basis) == (
        Decimal("6500"),
        Decimal("7000"),
        "seller",
    )
    assert (dumping.tax_id, dumping.region) == (E2, "msk")
    assert {v.rule for v in data.violations} == {"dumping", "parallel_import"}  # a platform discount is no violation
    split = data.price_split()
    assert split.seller_dumping == 1
    (discount,) = split.platform_discounts
    assert discount.price == Decimal("7800")  # the lowest the buyer sees: the card price
    assert (discount.shown_price, discount.seller_price, discount.card_price) == (
        Decimal("8000"),
        Decimal("9900"),
        Decimal("7800"),
    )
    assert data.summaries[0].violations == 2


def test_a_distributors_report_lists_the_marketplace_findings_of_the_entities_buying_from_it(world: Any) -> None:
    data = _collect(world, "techsnab")
    assert data.violations == []
    assert data.summaries[0].violations == 0
    assert sorted(v.rule for v in data.bought) == ["platform_discount", "unlisted_storefront"]
    assert [o.entity.tax_id if o.entity else None for o in data.offenders()] == [E1]
    whole = _collect(world, None)
    assert [o.entity.tax_id if o.entity else None for o in whole.section("techsnab").offenders()] == [E1]
    assert len(whole.section("market").offenders()) == 3


def test_the_workbook_has_the_offenders_the_platform_discounts_and_the_new_columns(world: Any, tmp_path: Path) -> None:
    data = _collect(world, "market")
    book = openpyxl.load_workbook(io.BytesIO(render("xlsx", data, texts_for(world.config), tmp_path)))
    assert book.sheetnames[-2:] == ["Нарушители по юрлицам", "Скидки площадки"]
    offenders = book["Нарушители по юрлицам"]
    header = [c.value for c in offenders[4]]
    rows = [dict(zip(header, r, strict=False)) for r in offenders.iter_rows(min_row=5, max_row=7, values_only=True)]
    assert [r["ИНН"] for r in rows] == [E1, E2, None]
    assert rows[2]["Юрлицо"] == "юрлицо не установлено"
    assert rows[0]["Покупает у"] == "ТехСнаб"
    assert rows[0]["Скидка площадки"] == 1
    assert "Тепло Дисконт (market:s-b), не авторизован" in rows[0]["Витрины"]
    assert "Демпинг продавца (его собственная цена ниже порога): 1" in offenders["A2"].value
    violations = book["Нарушения"]
    vh = [c.value for c in violations[1]]
    (dump,) = [
        dict(zip(vh, r, strict=True))
        for r in violations.iter_rows(min_row=2, values_only=True)
        if r[vh.index("Нарушение")] == "Демпинг"
    ]
    assert (dump["ИНН"], dump["Регион"], dump["Основа цены"]) == (E2, "msk", "цена продавца")
    assert (dump["Цена, ₽"], dump["На витрине, ₽"], dump["Цена продавца, ₽"]) == (7000, 6500, 7000)
    platform = book["Скидки площадки"]
    ph = [c.value for c in platform[1]]
    (row,) = [dict(zip(ph, r, strict=True)) for r in platform.iter_rows(min_row=2, values_only=True)]
    assert (row["ИНН"], row["По карте, ₽"], row["Цена продавца, ₽"]) == (E1, 7800, 9900)


def test_the_pdf_html_and_the_csv_carry_the_entities(world: Any, tmp_path: Path) -> None:
    data = _collect(world, None)
    html = render_html(data, texts_for(world.config), tmp_path)
    for phrase in (
        "Нарушители по юрлицам",
        "юрлицо не установлено",
        f"ИНН {E1}",
        "ОГРН / ОГРНИП 1027700132195",
        "Кто снизил цену",
        "Нарушения на маркетплейсах юрлиц, покупающих у дистрибьютора",
        "Основа цены: цена продавца",
    ):
        assert phrase in html, phrase
    english = render_html(data, texts_for(world.config, "en"), tmp_path)
    assert "legal entity not established" in english
    assert "Offenders by legal entity" in english
    rows = list(csv.DictReader(io.StringIO(render("csv", data, texts_for(world.config), tmp_path).decode("utf-8-sig"))))
    (dump,) = [r for r in rows if r["rule"] == "dumping"]
    assert (dump["tax_id"], dump["region"], dump["price_basis"], dump["shown_price"], dump["seller_price"]) == (
        E2,
        "msk",
        "seller",
        "6500.00",
        "7000.00",
    )


def test_report_queries_do_not_grow_with_the_findings(world: Any) -> None:
    """One query per section: twice the storefronts' findings, the same number of statements."""

    def count() -> int:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(world.engine, "before_cursor_execute", listener)
        try:
            _collect(world, None).offenders()
        finally:
            event.remove(world.engine, "before_cursor_execute", listener)
        return len(statements)

    before = count()
    b = world.builder
    for n in range(4):
        key = f"l-more-{n}"
        b.add(
            key,
            Listing(
                seller_id=b.ids["s-c"],
                url=f"http://127.0.0.1:8704/catalog/{n}/detail.aspx",
                product_id=b.ids["p1"],
                region="spb",
            ),
        )
        _observe(world, key, 2, "6000", "6000")
        b.alert(
            f"a-more-{n}",
            "dumping",
            key,
            "p1",
            "market",
            world.at(2, 12, 40),
            world.at(2, 12, 40),
            details={"price_basis": "seller"},
        )
    assert count() == before
