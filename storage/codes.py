"""Identifier normalizers shared by catalog import and offer matching: GTIN/EAN and vendor codes."""

from __future__ import annotations

import re
from collections.abc import Iterable

_GTIN_LENGTHS = frozenset({8, 12, 13, 14})
# Separators tolerated inside a printed GTIN ("4 601234 567893", "460-1234-567893"); anything else is not a GTIN.
_GTIN_SEPARATORS = re.compile(r"[\s\-]+")
# Separators people put inside codes: spaces (incl. NBSP/thin), hyphens/dashes, dots, slashes, underscores.
_CODE_NOISE = re.compile(r"[\s\-\u2010-\u2015\u2212./\\_]+")
# Cyrillic letters that look like Latin ones in vendor codes (upper case after .upper()).
_LOOKALIKES = str.maketrans("АВЕКМНОРСТХ", "ABEKMHOPCTX")


def _digits(raw: str) -> str:
    """The GTIN's digits, or "" when anything but digits and separators is present."""
    digits = _GTIN_SEPARATORS.sub("", raw)
    return digits if digits.isascii() and digits.isdigit() else ""


def _check_digit_ok(digits: str) -> bool:
    """GS1 mod-10: weights 3,1,3,... from the rightmost digit before the check digit."""
    body = digits[:-1]
    total = 3 * sum(map(int, body[::-1][::2])) + sum(map(int, body[::-1][1::2]))
    return (10 - total % 10) % 10 == int(digits[-1])


def gtin_check_ok(raw: str) -> bool:
    """True when `raw` holds an EAN-8 / UPC-A / EAN-13 / GTIN-14 with a correct check digit."""
    digits = _digits(raw)
    return len(digits) in _GTIN_LENGTHS and int(digits) != 0 and _check_digit_ok(digits)


def normalize_gtin(raw: str) -> str | None:
    """A valid GTIN as a 14-digit zero-padded string; None when it is not a valid GTIN."""
    if not gtin_check_ok(raw):
        return None
    return _digits(raw).zfill(14)


def display_gtin(gtin14: str) -> str:
    """A stored GTIN-14 the way it is printed on the box: EAN-8 or EAN-13 (UPC-A gets its leading 0), else 14."""
    if gtin14.startswith("000000"):
        return gtin14[6:]
    return gtin14[1:] if gtin14.startswith("0") else gtin14


def normalize_vendor_code(raw: str) -> str:
    """Upper case, Cyrillic look-alikes to Latin, separators removed: `"тl-1001 "` → `"TL1001"`."""
    return _CODE_NOISE.sub("", raw.upper().translate(_LOOKALIKES))


def strip_affixes(code_norm: str, prefixes: Iterable[str] = (), suffixes: Iterable[str] = ()) -> str:
    """Remove one configured prefix and one suffix (compared normalized) from a normalized vendor code.

    The longest matching affix wins; a code is never stripped to nothing.
    """
    for prefix in sorted((normalize_vendor_code(p) for p in prefixes), key=len, reverse=True):
        if prefix and code_norm.startswith(prefix) and len(code_norm) > len(prefix):
            code_norm = code_norm[len(prefix) :]
            break
    for suffix in sorted((normalize_vendor_code(s) for s in suffixes), key=len, reverse=True):
        if suffix and code_norm.endswith(suffix) and len(code_norm) > len(suffix):
            code_norm = code_norm[: -len(suffix)]
            break
    return code_norm
