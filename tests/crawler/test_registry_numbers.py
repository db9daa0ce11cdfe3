"""ИНН and ОГРН/ОГРНИП are checked by their control digits: a wrong control digit, and most typos, are caught."""

from __future__ import annotations

import pytest

from crawler.parsing.registry_numbers import is_ogrn, is_tax_id, ogrn_problem, tax_id_problem

# Published registration numbers (a bank's, a tax office's) and the pilot's own.
VALID_TAX_IDS = ["7707083893", "7728168971", "500100732259", "7704123450", "502401234564", "7728345613"]
VALID_OGRNS = ["1027700132195", "1027700067328", "1177746123455", "318502400123451"]


@pytest.mark.parametrize("value", VALID_TAX_IDS)
def test_a_real_tax_id_passes(value: str) -> None:
    assert is_tax_id(value)


@pytest.mark.parametrize("value", VALID_TAX_IDS)
def test_a_wrong_last_digit_fails(value: str) -> None:
    for digit in "0123456789":
        if digit != value[-1]:
            assert not is_tax_id(value[:-1] + digit)


def test_most_one_digit_typos_fail() -> None:
    """A mod-11 check digit folded to 0–9 misses a typo now and then; nine in ten must still be caught."""
    typos = [
        v[:i] + d + v[i + 1 :] for v in VALID_TAX_IDS for i in range(len(v) - 1) for d in "0123456789" if d != v[i]
    ]
    assert sum(not is_tax_id(t) for t in typos) >= 0.9 * len(typos)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("77012", "is not an ИНН (10 or 12 digits)"),
        ("77070838931", "is not an ИНН (10 or 12 digits)"),
        ("77070838A3", "is not an ИНН (10 or 12 digits)"),
        ("7707083894", "is not an ИНН: its control digits do not match (a typo?)"),
        ("500100732258", "is not an ИНН: its control digits do not match (a typo?)"),
    ],
)
def test_the_problem_says_what_is_wrong(value: str, problem: str) -> None:
    assert tax_id_problem(value) == problem


@pytest.mark.parametrize("value", VALID_OGRNS)
def test_a_real_ogrn_passes_and_a_typo_fails(value: str) -> None:
    assert is_ogrn(value)
    typo = value[:-1] + str((int(value[-1]) + 1) % 10)
    assert ogrn_problem(typo) == "is not an ОГРН: its control digit does not match (a typo?)"


def test_an_ogrn_of_another_length_is_not_one() -> None:
    assert ogrn_problem("10277001321") == "is not an ОГРН (13 digits) or ОГРНИП (15 digits)"
