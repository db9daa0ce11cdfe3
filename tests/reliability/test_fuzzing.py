"""Hypothesis on what reads untrusted text: the money, quantity, EAN and vendor-code normalizers and the config loader.

The page parsers (price, stock, anti-bot pages, structured data) have their properties in
tests/crawler/test_parsing_properties.py; these are the normalizers behind them and the catalog import, and the
config loader on arbitrary YAML-ish text, arbitrary nested data, and the pilot config with one value broken.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from crawler.config import Config, ConfigError, parse_config
from pipelines.normalize import money
from storage.codes import gtin_check_ok, normalize_gtin, normalize_vendor_code
from storage.plan_import import MAX_QUANTITY, parse_quantity
from storage.tabular import MAX_PRICE, parse_money
from tests.support.reliability import PILOT_YAML

SPACES = [" ", "\xa0", "\u202f", "\u2009"]
MONEY_ALPHABET = st.sampled_from(list("0123456789 .,'-−+eE") + SPACES + ["₽", "руб.", "р.", "RUB", "NaN", "Infinity"])
money_like = st.lists(MONEY_ALPHABET, max_size=30).map("".join)
any_text = st.one_of(st.text(), money_like)


def ean_body(length: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1)


def with_check_digit(body: str) -> str:
    """GS1 mod-10, written out independently of storage.codes: weights 3, 1, 3, … from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


valid_gtins = st.sampled_from([8, 12, 13, 14]).flatmap(ean_body).map(with_check_digit).filter(lambda g: int(g) != 0)


@settings(max_examples=300)
@given(text=any_text)
@example(text=".001")  # a fraction of a kopeck once came out as 0.00
def test_crawled_money_is_a_positive_two_place_amount_or_nothing(text: str) -> None:
    amount = money(text)
    if amount is not None:
        assert re.fullmatch(r"\d+\.\d\d", amount), amount
        assert Decimal(amount) > 0


@settings(max_examples=300)
@given(value=st.one_of(st.none(), any_text, st.integers(), st.floats(), st.decimals(allow_nan=True)))
def test_a_price_list_cell_is_a_price_nothing_or_a_reason(value: Any) -> None:
    try:
        amount = parse_money(value)
    except ValueError as exc:
        reason = str(exc)  # it goes into the one line the person reads
        amount = None
    else:
        reason = "a price"
    assert reason
    assert "\n" not in reason
    if amount is not None:
        assert 0 < amount <= MAX_PRICE
        assert amount.as_tuple().exponent == -2


@settings(max_examples=300)
@given(value=st.one_of(st.none(), any_text, st.integers(), st.floats()))
def test_a_plan_cell_is_a_quantity_nothing_or_a_reason(value: Any) -> None:
    try:
        quantity = parse_quantity(value)
    except ValueError as exc:
        reason = str(exc)
        quantity = None
    else:
        reason = "a quantity"
    assert reason
    assert "\n" not in reason
    if quantity is not None:
        assert 0 <= quantity <= MAX_QUANTITY


@given(rubles=st.integers(min_value=1, max_value=99_999_999), kopecks=st.integers(min_value=0, max_value=99))
def test_a_russian_price_cell_reads_back_exactly(rubles: int, kopecks: int) -> None:
    grouped = f"{rubles:,}".replace(",", "\xa0")
    assert parse_money(f"{grouped},{kopecks:02d} ₽") == Decimal(f"{rubles}.{kopecks:02d}")


@settings(max_examples=300)
@given(text=st.one_of(st.text(), st.text(alphabet="0123456789 -\t", max_size=20)))
def test_a_gtin_normalizes_to_14_checked_digits_or_to_nothing(text: str) -> None:
    gtin = normalize_gtin(text)
    assert (gtin is not None) == gtin_check_ok(text)
    if gtin is not None:
        assert len(gtin) == 14
        assert gtin.isascii()
        assert gtin.isdigit()
        assert normalize_gtin(gtin) == gtin


@given(gtin=valid_gtins, data=st.data())
def test_one_wrong_digit_in_a_gtin_is_always_caught(gtin: str, data: st.DataObject) -> None:
    assert normalize_gtin(gtin) == gtin.zfill(14)
    position = data.draw(st.integers(min_value=0, max_value=len(gtin) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != gtin[position]]))
    wrong = gtin[:position] + digit + gtin[position + 1 :]
    assume(int(wrong) != 0)
    assert normalize_gtin(wrong) is None


LOOKALIKES = dict(zip("ABEKMHOPCTX", "АВЕКМНОРСТХ", strict=True))
code_like = st.text(alphabet="ABEKMHOPCTXabekmhopctxTL0123456789 -._/", min_size=1, max_size=16)


@settings(max_examples=300)
@given(text=st.one_of(st.text(), code_like))
def test_a_vendor_code_normalizes_once_and_for_all(text: str) -> None:
    code = normalize_vendor_code(text)
    assert normalize_vendor_code(code) == code
    assert not re.search(r"[\s\-./\\_]", code)
    assert not set(code) & set(LOOKALIKES.values())


@given(code=code_like, swaps=st.lists(st.booleans(), min_size=16, max_size=16), lower=st.booleans())
def test_cyrillic_look_alikes_case_and_separators_do_not_change_a_vendor_code(
    code: str, swaps: list[bool], lower: bool
) -> None:
    disguised = "".join(LOOKALIKES.get(ch.upper(), ch) if swap else ch for ch, swap in zip(code, swaps, strict=False))
    disguised = disguised.lower() if lower else disguised
    assert normalize_vendor_code(f" {disguised}-") == normalize_vendor_code(code)


def parses_or_config_error(text: str) -> Config | None:
    """parse_config gives a Config or a one-line ConfigError that names the source; nothing else escapes it."""
    try:
        return parse_config(text, "fuzz.yaml", env={})
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("fuzz.yaml:")
        assert "\n" not in message
        return None


YAMLISH = st.sampled_from([*":-[]{},#&*!|>'\"%@` \t\n", "${X}", "${X:-y}", "!!python/object", "---", "..."])
yamlish_text = st.lists(st.one_of(YAMLISH, st.text(max_size=5)), max_size=40).map("".join)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), st.sampled_from(["${X}", "$", ""])
)
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(), yamlish_text))
def test_any_text_as_a_config_is_a_config_or_a_config_error(text: str) -> None:
    parses_or_config_error(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(st.text(max_size=12), nested, max_size=5))
def test_any_nested_data_as_a_config_is_a_config_or_a_config_error(data: dict[str, Any]) -> None:
    parses_or_config_error(yaml.safe_dump(data, allow_unicode=True))


PILOT: dict[str, Any] = yaml.safe_load(PILOT_YAML.read_text(encoding="utf-8"))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


PILOT_PATHS = _paths(PILOT)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PILOT_PATHS), value=nested)
def test_the_pilot_config_with_one_value_broken_is_a_config_or_a_config_error(
    path: tuple[Any, ...], value: Any
) -> None:
    data = yaml.safe_load(PILOT_YAML.read_text(encoding="utf-8"))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    parses_or_config_error(yaml.safe_dump(data, allow_unicode=True))
