"""Russian registration numbers checked by their control digits: ИНН (tax id) and ОГРН/ОГРНИП (state register)."""

from __future__ import annotations

import re

_DIGITS_10_OR_12 = re.compile(r"\d{10}|\d{12}")
_DIGITS_13_OR_15 = re.compile(r"\d{13}|\d{15}")

# ИНН control digits, by the Federal Tax Service's published algorithm (as ru.wikipedia.org «Идентификационный
# номер налогоплательщика», «Вычисление контрольных цифр», gives it): each control digit is the weighted sum of the
# digits before it, mod 11, mod 10. A company's 10-digit
# ИНН has one (weights below, over digits 1–9); a person's 12-digit ИНН has two (the 11th over digits 1–10, the
# 12th over digits 1–11).
_WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _control(weights: tuple[int, ...], digits: str) -> int:
    return sum(w * int(d) for w, d in zip(weights, digits, strict=False)) % 11 % 10


def tax_id_problem(value: str) -> str | None:
    """Why `value` is not an ИНН (English, for messages), or None when it is one."""
    if not _DIGITS_10_OR_12.fullmatch(value):
        return "is not an ИНН (10 or 12 digits)"
    if len(value) == 10:
        valid = _control(_WEIGHTS_10, value) == int(value[9])
    else:
        valid = _control(_WEIGHTS_11, value) == int(value[10]) and _control(_WEIGHTS_12, value) == int(value[11])
    return None if valid else "is not an ИНН: its control digits do not match (a typo?)"


def is_tax_id(value: str) -> bool:
    return tax_id_problem(value) is None


def ogrn_problem(value: str) -> str | None:
    """Why `value` is not an ОГРН (13 digits) or ОГРНИП (15), or None when it is one.

    The last digit is the number the others form, mod 11 (ОГРН) or mod 13 (ОГРНИП), mod 10 (the register's rule,
    as ru.wikipedia.org «Основной государственный регистрационный номер» gives it).
    """
    if not _DIGITS_13_OR_15.fullmatch(value):
        return "is not an ОГРН (13 digits) or ОГРНИП (15 digits)"
    modulus = 11 if len(value) == 13 else 13
    valid = int(value[:-1]) % modulus % 10 == int(value[-1])
    return None if valid else "is not an ОГРН: its control digit does not match (a typo?)"


def is_ogrn(value: str) -> bool:
    return ogrn_problem(value) is None
