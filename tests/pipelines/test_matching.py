"""Matching an offer to the catalog: codes in every written form, accessories and other brands never forced."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fixtures.pilot.catalog import CATALOG
from pipelines.matching import CatalogIndex, MatchSettings
from storage.codes import normalize_vendor_code
from storage.models import MatchMethod
from storage.queries.matching import CatalogProduct

PRODUCTS = [
    CatalogProduct(i, p.vendor_code, normalize_vendor_code(p.vendor_code), p.name, p.brand, p.eans)
    for i, p in enumerate(CATALOG, start=1)
]
ID = {p.vendor_code: p.id for p in PRODUCTS}
SETTINGS = MatchSettings(
    brand_tokens=("Termoline", "Термолайн"),
    accessory_words=("фильтр", "чехол", "картридж", "ножки", "совместим", "аналог", "filter"),
    accessory_links=("для", "for"),
    affixes={"klimatprof": ((), ("-RU",)), "prefixed": (("TS-",), ())},
)


@dataclass
class Offer:
    title: str | None = None
    vendor_code: str | None = None
    gtin: str | None = None
    distributor: str = "techsnab"
    url: str = "http://shop.test/p/1"


@pytest.fixture(scope="module")
def index() -> CatalogIndex:
    return CatalogIndex(PRODUCTS, {}, SETTINGS)


def _code(index: CatalogIndex, offer: Offer) -> str | None:
    result = index.match(offer)
    return None if result.product_id is None else index.products[result.product_id].row.vendor_code


@pytest.mark.parametrize(
    "gtin",
    [
        "4607123010037",  # EAN-13 as printed
        "4 607123 010037",  # with spaces
        "04607123010037",  # GTIN-14
    ],
)
def test_gtin_in_any_form_matches_with_full_confidence(index: CatalogIndex, gtin: str) -> None:
    result = index.match(Offer(title="что угодно", gtin=gtin))
    assert (result.product_id, result.method, result.confidence) == (ID["TL-1003"], MatchMethod.GTIN, 1.0)


def test_a_product_second_gtin_matches_too(index: CatalogIndex) -> None:
    assert _code(index, Offer(gtin=CATALOG[0].eans[1])) == "TL-1001"


def test_upc_a_gtin_matches_its_ean13_form() -> None:
    upc = "036000291452"  # UPC-A; as EAN-13 it is 0036000291452
    row = CatalogProduct(1, "X-1", "X1", "Что-то", None, ("0036000291452",))
    assert CatalogIndex([row], {}, SETTINGS).match(Offer(gtin=upc)).product_id == 1


def test_a_wrong_check_digit_is_not_a_gtin(index: CatalogIndex) -> None:
    result = index.match(Offer(gtin="4607123010038"))  # last digit off by one
    assert result.product_id is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("TL-1004", "TL-1004"),
        ("TL 1004", "TL-1004"),
        ("tl.1004", "TL-1004"),
        ("TL/1004", "TL-1004"),
        ("ТL-1005", "TL-1005"),  # Cyrillic Т
        ("ТЛ-1005", None),  # Cyrillic Л is no Latin look-alike
        ("TL-10050", None),
    ],
)
def test_vendor_code_forms(index: CatalogIndex, code: str, expected: str | None) -> None:
    assert _code(index, Offer(vendor_code=code)) == expected


def test_distributor_affixes_are_stripped_for_that_distributor_only(index: CatalogIndex) -> None:
    with_suffix = index.match(Offer(vendor_code="TL1001-RU", distributor="klimatprof"))
    assert (with_suffix.product_id, with_suffix.method) == (ID["TL-1001"], MatchMethod.VENDOR_CODE)
    assert with_suffix.confidence < 1.0
    assert _code(index, Offer(vendor_code="TS-TL-2004", distributor="prefixed")) == "TL-2004"
    assert _code(index, Offer(vendor_code="TL1001-RU", distributor="techsnab")) is None


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Конвектор Termoline TL-1003, 2000 Вт, белый", "TL-1003"),
        ("Масляный радиатор Termoline TL 1004 7 секций", "TL-1004"),  # the code split in two tokens
        ("Масляный радиатор Термолайн ТL-1005", "TL-1005"),  # Cyrillic brand and a Cyrillic Т in the code
        ("Вентилятор Termoline (TL-2001)", "TL-2001"),
    ],
)
def test_a_catalog_code_in_the_title(index: CatalogIndex, title: str, expected: str) -> None:
    result = index.match(Offer(title=title))
    assert (_code(index, Offer(title=title)), result.method) == (expected, MatchMethod.TITLE_CODE)


@pytest.mark.parametrize(
    "title",
    [
        "Фильтр для увлажнителя TL-3001 (совместимый)",
        "Сменный фильтр для увлажнителя Termoline TL-3001, 2 шт. (совместимый)",
        "Фильтр HEPA для очистителя воздуха Термолайн TL-4001 (аналог)",
        "Ножки для конвектора Termoline TL-1001 / TL-1002, комплект",
        "Чехол для вентилятора Termoline TL-2001",
        "Пульт ДУ для Termoline TL-2002",  # TL-2002's own name has «пультом»: the «для» still marks an accessory
        "Filter for Termoline TL-3001",
        "Картридж Termoline для TL-3003",
    ],
)
def test_accessories_naming_a_catalog_code_are_never_matched(index: CatalogIndex, title: str) -> None:
    result = index.match(Offer(title=title))
    assert result.product_id is None
    assert result.candidates  # a person sees which product the title named


def test_a_catalog_product_that_is_itself_an_accessory_still_matches() -> None:
    rows = [
        *PRODUCTS,
        CatalogProduct(999, "TL-F3001", "TLF3001", "Фильтр Termoline TL-F3001 для увлажнителя", "Termoline", ()),
    ]
    index = CatalogIndex(rows, {}, SETTINGS)
    assert index.match(Offer(title="Фильтр Termoline TL-F3001")).product_id == 999


@pytest.mark.parametrize(
    "title",
    [
        "Конвектор электрический Nordwind NW-1500, 1500 Вт",
        "Масляный радиатор Теплодар ОМ-9, 9 секций",
        "Увлажнитель AquaMist AM-300",
        "Увлажнитель воздуха ультразвуковой",  # our product's words, but no brand: never fuzzy-matched
        "Конвектор инверторный 2000 Вт",
    ],
)
def test_other_brands_and_brandless_titles_are_never_matched(index: CatalogIndex, title: str) -> None:
    assert index.match(Offer(title=title)).product_id is None


def test_fuzzy_name_within_the_brand(index: CatalogIndex) -> None:
    result = index.match(Offer(title="Увлажнитель воздуха паровой Термолайн"))
    assert (_code(index, Offer(title="Увлажнитель воздуха паровой Термолайн")), result.method) == (
        "TL-3003",
        MatchMethod.NAME,
    )
    assert 0.88 <= result.confidence <= 1.0


def test_fuzzy_needs_a_margin_over_the_second_best(index: CatalogIndex) -> None:
    # Five humidifiers are about equally close to this title: none of them is chosen.
    tie = index.match(Offer(title="Termoline увлажнитель воздуха"))
    assert tie.product_id is None
    assert len(tie.candidates) == 3
    assert tie.candidates[0].score - tie.candidates[1].score < SETTINGS.fuzzy_margin


def test_fuzzy_never_ignores_a_number_of_the_name(index: CatalogIndex) -> None:
    # TL-1004 is the 7-section radiator; a 13-section one is some other model.
    assert index.match(Offer(title="Масляный радиатор Termoline 13 секций 1500 Вт")).product_id is None
    assert _code(index, Offer(title="Масляный радиатор Termoline 7 секций 1500 Вт")) == "TL-1004"


def test_a_title_with_a_code_we_do_not_list_is_another_model(index: CatalogIndex) -> None:
    assert index.match(Offer(title="Масляный радиатор Termoline TL-1099 7 секций 1500 Вт")).product_id is None


def test_two_catalog_codes_in_one_title_are_ambiguous(index: CatalogIndex) -> None:
    result = index.match(Offer(title="Комплект Termoline TL-1001 + TL-2003"))
    assert result.product_id is None
    assert {c.vendor_code for c in result.candidates} == {"TL-1001", "TL-2003"}


def test_a_person_decision_wins_over_every_method() -> None:
    url = "http://shop.test/p/7"
    overrides = {("techsnab", url): ID["TL-2001"], ("techsnab", "http://shop.test/p/8"): None}
    index = CatalogIndex(PRODUCTS, overrides, SETTINGS)
    decided = index.match(Offer(gtin=CATALOG[0].eans[0], url=url))
    not_ours = index.match(Offer(vendor_code="TL-1001", url="http://shop.test/p/8"))
    elsewhere = index.match(Offer(vendor_code="TL-1001", url=url, distributor="klimatprof"))
    assert (decided.product_id, decided.method, decided.confidence) == (ID["TL-2001"], MatchMethod.MANUAL, 1.0)
    assert (not_ours.product_id, not_ours.method) == (None, MatchMethod.MANUAL)
    assert elsewhere.product_id == ID["TL-1001"]


def test_suggestions_for_a_person_ignore_the_brand(index: CatalogIndex) -> None:
    suggested = index.suggest("Тепловая пушка электрическая 5 кВт")
    assert suggested[0].vendor_code == "TL-1014"
    assert len(suggested) == 3
