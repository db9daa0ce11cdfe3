"""Reading titles by role (pipelines/terms.py) with the shop vocabulary (pipelines/vocabulary): model codes, spec
numbers in their many spellings, kit or body, colours, synonyms, abbreviations and brand spellings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crawler.config import MatchingVocabulary
from pipelines.terms import BODY, KIT, TermReader
from pipelines.vocabulary import load_vocabulary, sound, stem

READER = TermReader(load_vocabulary())


def _specs(title: str) -> dict[str, set[str]]:
    return {role: {f"{v:f}" for v in values} for role, values in READER.read(title).specs.items()}


@pytest.mark.parametrize(
    ("title", "specs"),
    [
        ("Дрель-шуруповерт 18 В, 2×3,0 Ач", {"voltage": {"18"}, "capacity": {"3"}, "batteries": {"2"}}),
        ("Шуруповерт 18V 2x4.0Ah", {"voltage": {"18"}, "capacity": {"4"}, "batteries": {"2"}}),
        ("Шуруповерт 18В, 2 х 1,5Ач", {"voltage": {"18"}, "capacity": {"1.5"}, "batteries": {"2"}}),
        ("Шуруповерт 2 АКБ 2,0 Ач", {"batteries": {"2"}, "capacity": {"2"}}),
        ("Аккумулятор 5000 мАч", {"capacity": {"5"}}),
        ("УШМ 1,1 кВт 125мм", {"power": {"1100"}, "size": {"125"}}),
        ("Перфоратор 800W, 2.7J", {"power": {"800"}, "energy": {"2.7"}}),
        ("Гайковерт 400 Н·м", {"torque": {"400"}}),
        ("Диск Ø185x30 мм, 24 зуба", {"size": {"185", "30"}, "teeth": {"24"}}),
        ("Зарядное устройство 14,4–18 В", {"voltage": {"14.4", "18"}}),
        ("Масляный радиатор 7 секц., 1500Вт", {"sections": {"7"}, "power": {"1500"}}),
        ("Набор бит, 32 предмета", {"count": {"32"}}),
        ("Фильтр (2 шт.)", {"count": {"2"}}),
        ("Чайник 1,7 литра", {"volume": {"1.7"}}),
        ("Пылесос 3 в 1", {}),  # three functions, not 3 volts
        ("Шуруповерт, 2 в комплекте", {}),  # «в» the preposition
    ],
)
def test_spec_numbers_are_read_by_role_in_every_spelling(title: str, specs: dict[str, set[str]]) -> None:
    assert _specs(title) == specs


@pytest.mark.parametrize(
    ("title", "models"),
    [
        ("Gromax GD1850RFE", {"GD1850RFE"}),
        ("Gromax GD 1850Z", {"GD1850Z"}),
        ("Bosch GSR 18V-50 Professional", {"GSR18V50"}),  # a model, not 18 volts
        ("Volten VBH 2-26 DRE", {"VBH226DRE"}),
        ("Volten VBH2-26 DRE", {"VBH226DRE"}),
        ("Volten VWS 750-125", {"VWS750125"}),
        ("Termoline TK-1720W", {"TK1720W"}),
        ("Очиститель HEPA H13, IP54", set()),  # short codes are features, not models
        ("Конвектор Aurora 12 Lux", set()),  # a series name and number
        ("Gromax Pro 18 В", set()),
    ],
)
def test_model_codes_are_read_as_one_code(title: str, models: set[str]) -> None:
    assert set(READER.read(title).models) == models


@pytest.mark.parametrize(
    ("title", "kit"),
    [
        ("Шуруповерт Gromax тушка", BODY),
        ("Шуруповерт Gromax без АКБ и ЗУ", BODY),
        ("Шуруповерт без аккумулятора и зарядного устройства", BODY),
        ("Дрель-шуруповерт Volten solo", BODY),
        ("Impact driver, bare tool", BODY),
        ("Шуруповерт с двумя аккумуляторами", KIT),
        ("Шуруповерт 2 АКБ", KIT),
        ("Шуруповерт 2х3Ач", KIT),
        ("Шуруповерт Gromax в кейсе", None),
    ],
)
def test_kit_or_body(title: str, kit: str | None) -> None:
    assert READER.read(title).kit == kit


@pytest.mark.parametrize(
    ("title", "colours"),
    [
        ("Чайник белый", {"белый"}),
        ("Чайник, белого цвета", {"белый"}),
        ("Чайник чёрный", {"черный"}),
        ("Чайник Black", {"черный"}),
        ("Чайник серии Classic", set()),  # «серии» is no «серый»
    ],
)
def test_colours_in_their_word_forms(title: str, colours: set[str]) -> None:
    assert set(READER.read(title).colours) == colours


@pytest.mark.parametrize(
    ("title", "same_as"),
    [
        ("Циркулярная пила", "Пила дисковая"),
        ("Болгарка", "Угловая шлифмашина"),
        ("Шуруповёрт аккум.", "Шуруповерт аккумуляторный"),
        ("АКБ", "Аккумулятор"),
        ("Электролобзик", "Лобзик"),
        ("Дрели", "Дрель"),
    ],
)
def test_synonyms_abbreviations_and_word_forms_read_the_same(title: str, same_as: str) -> None:
    assert sorted(READER.read(title).words) == sorted(READER.read(same_as).words)


def test_brands_sound_the_same_in_latin_and_cyrillic() -> None:
    assert sound("Громакс") == sound("Gromax")
    assert sound("Вольтен") == sound("Volten")
    assert stem("аккумуляторная") == stem("аккумуляторный")


def test_the_config_adds_words_and_units_to_the_vocabulary() -> None:
    extension = MatchingVocabulary(
        synonyms={"перфоратор": ["бурхаммер"]},
        body_words=["без батарейки"],
        colours={"хаки": ["хаки"]},
        units={"квт·ч": ("energy_kwh", Decimal(1))},
    )
    reader = TermReader(load_vocabulary(extension))
    terms = reader.read("Бурхаммер без батарейки, хаки, 2 кВт·ч")
    assert ("перфоратор" in terms.words, terms.kit, set(terms.colours)) == (True, BODY, {"хаки"})
    assert terms.specs == {"energy_kwh": frozenset({Decimal(2)})}


def test_the_english_vocabulary_can_be_left_out() -> None:
    russian_only = TermReader(load_vocabulary(MatchingVocabulary(languages=["ru"])))
    assert russian_only.read("Drill, bare tool").kit is None
    assert READER.read("Drill, bare tool").kit == BODY
