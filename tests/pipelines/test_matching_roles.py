"""Matching by role: model codes exactly, spec numbers never in conflict but free to be absent, kit against body,
capacities, colours and packs never confused; the shops' vocabulary; and the reason every result carries."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from crawler.config import parse_config
from fixtures import matching as labelled
from pipelines.match_reason import MATCHED_RULES, REFUSED_RULES, MatchReason
from pipelines.matching import CatalogIndex, MatchResult, MatchSettings
from storage.codes import normalize_vendor_code
from storage.models import MatchMethod
from storage.queries.matching import CatalogProduct, title_key

CONFIG = """
distributors:
  - {code: shop, name: Магазин, start_urls: ["http://127.0.0.1:9/"]}
"""
ROWS = [
    CatalogProduct(
        n,
        c.vendor_code,
        normalize_vendor_code(c.vendor_code),
        c.name,
        c.brand,
        ("4607004650017",) if c.vendor_code == "GS5007" else (),
    )
    for n, c in enumerate(labelled.catalog(), start=1)
]
ID = {row.vendor_code: row.id for row in ROWS}


@dataclass
class Offer:
    title: str | None = None
    vendor_code: str | None = None
    gtin: str | None = None
    seller_sku: str | None = None
    distributor: str = "shop"
    url: str = "http://shop.test/p/1"


def _settings(config: str = CONFIG) -> MatchSettings:
    return MatchSettings.from_config(parse_config(config))


@pytest.fixture(scope="module")
def index() -> CatalogIndex:
    return CatalogIndex(ROWS, {}, _settings())


def _code(result: MatchResult) -> str | None:
    return None if result.product_id is None else ROWS[result.product_id - 1].vendor_code


def _match(index: CatalogIndex, title: str, **fields: str) -> tuple[str | None, MatchReason]:
    result = index.match(Offer(title=title, **fields))
    return _code(result), result.reason


def test_a_spec_the_title_leaves_out_is_no_reason_to_refuse(index: CatalogIndex) -> None:
    # The catalog names the impact energy (2,7 Дж); the title does not: still the one 780 W perforator.
    code, reason = _match(index, "Перфоратор Громакс 780 Вт")
    assert code == "GR2470"
    assert reason.rule == "name"
    assert "energy 2.7" in reason.missing


def test_a_spec_that_conflicts_with_every_candidate_refuses_and_says_which(index: CatalogIndex) -> None:
    code, reason = _match(index, "Перфоратор Gromax 800 Вт, 2,7 Дж")  # 800 W is GR2670, 2,7 J is GR2470
    assert code is None
    assert reason.rule == "conflict"
    assert {c.role for c in reason.conflicts} & {"power", "energy"}


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Шуруповерт Gromax GD1850 тушка", "GD1850Z"),
        ("Дрель аккум. Громакс GD1850, 18 В, без АКБ и ЗУ", "GD1850Z"),
        ("Шуруповерт аккумуляторный Gromax GD1850 Body", "GD1850Z"),
        ("Шуруповерт Gromax GD1850 18V, 2х3Ач, кейс", "GD1850RFE"),
        ("Шуруповерт Gromax GD1850 (2 акк. по 1,5 Ач)", "GD1850SYE"),
        ("Дрель-шуруповерт Volten VDS 18-50 Professional solo", "0601V18500"),
        ("Дрель-шуруповерт Volten VDS 18-50 2 АКБ 2,0 Ач, ЗУ, L-Boxx", "0601V18502"),
        ("Шуруповерт Вольтен VDS18-50 2x4.0Ah", "0601V18504"),
    ],
)
def test_kit_and_body_and_their_batteries_tell_the_product(index: CatalogIndex, title: str, expected: str) -> None:
    assert _match(index, title)[0] == expected


@pytest.mark.parametrize(
    "title",
    [
        "Шуруповерт Gromax GD1850",  # kit or body: the title does not say
        "Дрель-шуруповерт Volten VDS 18-50 Professional",
        "Gromax GD1850RFE без АКБ",  # the code of a kit, the words of a body
        "Шуруповерт Gromax GD1850 2 АКБ 5,0 Ач",  # no such kit in the catalog
    ],
)
def test_a_kit_is_never_a_body_nor_a_kit_of_other_batteries(index: CatalogIndex, title: str) -> None:
    code, reason = _match(index, title)
    assert code is None
    assert reason.rule in {"variant", "conflict"}


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Аккумулятор Volten VBA 18V 2,0 Ач", "1600V18020"),
        ("АКБ Вольтен 18 В 4 Ач", "1600V18040"),
        ("Аккумулятор Gromax BL1850 18V 5Ah", "BL1850"),
        ("Аккумулятор Volten VBA 18V 8,0 Ач", None),
        ("Аккумулятор Gromax BL1850 4.0Ah", None),  # the code says 5 Ah
    ],
)
def test_capacities_are_never_confused(index: CatalogIndex, title: str, expected: str | None) -> None:
    assert _match(index, title)[0] == expected


@pytest.mark.parametrize(
    ("title", "expected", "rule"),
    [
        ("Чайник Termoline TK-1720 черный", "TK-1720B", "model_line"),
        ("Электрочайник Термолайн TK-1720, серебристого цвета", "TK-1720S", "model_line"),
        ("Чайник Termoline TK-1720W Black", None, "conflict"),  # the white one's code, a black kettle
        ("Чайник Termoline TK-1720 1,7 л", None, "variant"),
        ("Чайник Termoline TK-1720 красный", None, "conflict"),
    ],
)
def test_colours_are_separate_products(index: CatalogIndex, title: str, expected: str | None, rule: str) -> None:
    code, reason = _match(index, title)
    assert (code, reason.rule) == (expected, rule)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Фильтр для увлажнителя Termoline TF-300, 4 шт", "TF-300-4"),
        ("Сменный фильтр для увлажнителя Термолайн TF 300 (2 шт.)", "TF-300-2"),
        ("Фильтр для увлажнителя Termoline TF-300, 6 шт.", None),
        ("Набор аккумуляторов Gromax BL1850 18 В 5 Ач, 2 шт.", "197570-9"),  # the code is the single battery's
        ("Аккумулятор Gromax BL1850 18V 5Ah", "BL1850"),
        ("Набор бит Volten Extra Hard, 32 предмета", "2608V32000"),
        ("Набор бит Volten Extra Hard, 20 шт.", None),
    ],
)
def test_pack_sizes_are_never_confused(index: CatalogIndex, title: str, expected: str | None) -> None:
    assert _match(index, title)[0] == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Циркулярная пила Громакс 185 мм 1800 Вт", "GS5007"),  # the catalog says «Пила дисковая»
        ("Болгарка Gromax 125 мм 850 Вт", "GA9050"),  # … «Угловая шлифмашина»
        ("Пила дисковая Volten VKS 190", "0601V19000"),  # … «Пила циркулярная»
        ("АКБ Громакс 18 В 5 Ач", "BL1850"),
        ("Дуйка Термолайн 2 кВт", "TFH-2000"),
    ],
)
def test_the_shops_words_are_read_as_the_catalogs(index: CatalogIndex, title: str, expected: str) -> None:
    assert _match(index, title)[0] == expected


@pytest.mark.parametrize(
    ("title", "rule"),
    [
        ("Аккумулятор для Gromax BL1850 18V 5.0Ah", "compatible"),
        ("АКБ для инструмента Gromax BL1815 18V 1.5Ah", "compatible"),
        ("Аккумулятор для шуруповерта Volten 18 В 4 Ач", "compatible"),
        ("Патрон SDS-plus для перфоратора Gromax GR2470", "compatible"),
        ("Аккумулятор Hammer BL1850 18V 5.0Ah", "other_brand"),
        ("Дрель-шуруповерт аккумуляторная Gromax GD1860Z 18 В", "unknown_code"),
        ("Перфоратор Volten VBH 2-26 DFR Professional", "unknown_model"),
        ("Gromax GD1850Z + аккумулятор BL1850 + ЗУ DC18RC", "codes"),
    ],
)
def test_look_alikes_are_refused_with_the_reason(index: CatalogIndex, title: str, rule: str) -> None:
    code, reason = _match(index, title)
    assert (code, reason.rule) == (None, rule)


def test_a_catalog_accessory_whose_name_says_what_it_is_for_still_matches(index: CatalogIndex) -> None:
    assert _match(index, "Фильтр для увлажнителя Termoline TF-300 (2 шт.)")[0] == "TF-300-2"


def test_a_set_the_catalog_lists_is_matched_by_the_codes_it_holds(index: CatalogIndex) -> None:
    code, reason = _match(index, "Стартовый набор Gromax BL1850 + DC18RC")
    assert (code, reason.rule) == ("198565-1", "model")


def test_a_name_with_more_words_the_title_never_says_is_not_it(index: CatalogIndex) -> None:
    # «Ударная дрель-шуруповерт» GH1850RFE is the same kit as GD1850RFE but for «ударная»: the title is GD1850RFE.
    assert _match(index, "Дрель-шуруповерт аккумуляторная GROMAX 18 В, 2х3Ач")[0] == "GD1850RFE"


def test_the_config_extends_the_vocabulary() -> None:
    title = "Бурхаммер Gromax 780 Вт 2,7 Дж без батарейки"
    assert _match(CatalogIndex(ROWS, {}, _settings()), title)[0] is None
    extended = CONFIG + "matching: {vocabulary: {synonyms: {перфоратор: [бурхаммер]}, noise_words: [без батарейки]}}"
    assert _match(CatalogIndex(ROWS, {}, _settings(extended)), title)[0] == "GR2470"


@pytest.mark.parametrize(
    ("fields", "expected", "rule"),
    [
        ({"vendor_code": "Артикул: GD1850Z"}, "GD1850Z", "vendor_code"),
        ({"vendor_code": "Код производителя - 0601V18504"}, "0601V18504", "vendor_code"),
        ({"vendor_code": "SKU-55012", "seller_sku": "BL1830"}, "BL1830", "vendor_code"),  # the brand's code wins
        ({"seller_sku": "4607004650017"}, "GS5007", "gtin"),  # a shop's SKU that is the barcode
    ],
)
def test_codes_are_read_without_labels_and_the_brands_code_wins(
    index: CatalogIndex, fields: dict[str, str], expected: str, rule: str
) -> None:
    result = index.match(Offer(title="Товар", **fields))
    assert (_code(result), result.reason.rule) == (expected, rule)


def test_every_result_carries_its_reason_and_candidates_best_first(index: CatalogIndex) -> None:
    for offer in labelled.offers():
        result = index.match(offer)
        assert result.reason.rule in (MATCHED_RULES if result.matched else REFUSED_RULES), offer.title
        assert MatchReason.from_json(result.reason.as_json()) == result.reason
        scores = [c.score for c in result.candidates]
        assert scores == sorted(scores, reverse=True), offer.title


def test_a_decision_on_one_page_is_reused_for_the_same_title_elsewhere() -> None:
    title = "Шуруповерт Gromax GD1850"  # kit or body: a person decided it is the body
    decided = CatalogIndex(
        ROWS, {}, _settings(), aliases={title_key(title): ID["GD1850Z"], title_key("Чайник Termoline"): None}
    )
    elsewhere = decided.match(Offer(title="ШУРУПОВЕРТ  Gromax GD1850", url="http://other.test/1", distributor="market"))
    assert (_code(elsewhere), elsewhere.method, elsewhere.reason.rule) == ("GD1850Z", MatchMethod.ALIAS, "alias")
    not_ours = decided.match(Offer(title="Чайник Termoline"))
    assert (not_ours.product_id, not_ours.reason.rule) == (None, "not_ours")
