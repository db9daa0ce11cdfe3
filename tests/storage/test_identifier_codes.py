"""GTIN/EAN and vendor-code normalizers: the shared contract of catalog import and matching."""

from __future__ import annotations

import pytest

from storage.codes import display_gtin, gtin_check_ok, normalize_gtin, normalize_vendor_code, strip_affixes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5901234123457", "05901234123457"),  # EAN-13, GS1's example
        ("4006381333931", "04006381333931"),  # EAN-13
        ("4607004650017", "04607004650017"),  # EAN-13, Russian prefix 460
        ("036000291452", "00036000291452"),  # UPC-A
        ("0036000291452", "00036000291452"),  # the same UPC-A written as EAN-13: equal after normalizing
        ("73513537", "00000073513537"),  # EAN-8
        ("96385074", "00000096385074"),  # EAN-8
        ("10012345678902", "10012345678902"),  # GTIN-14 (case of trade items)
        (" 4006381333931\n", "04006381333931"),  # whitespace around
        ("4 006381 333931", "04006381333931"),  # printed with groups
        ("400-6381-333931", "04006381333931"),
    ],
)
def test_valid_gtins_normalize_to_14_digits(raw: str, expected: str) -> None:
    assert gtin_check_ok(raw)
    assert normalize_gtin(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "4006381333932",  # wrong check digit
        "036000291453",  # UPC-A, wrong check digit
        "73513536",  # EAN-8, wrong check digit
        "10012345678903",  # GTIN-14, wrong check digit
        "400638133393",  # 12 digits that are not a valid UPC-A
        "40063813339",  # 11 digits: no GTIN has this length
        "400638133393100",  # 15 digits
        "0000000000000",  # all zeros passes mod-10 but is no product
        "4.00638E+12",  # a spreadsheet's scientific notation lost digits
        "EAN4006381333931",  # letters are not a GTIN
        "",
        "   ",
    ],
)
def test_invalid_gtins_are_rejected(raw: str) -> None:
    assert not gtin_check_ok(raw)
    assert normalize_gtin(raw) is None


def test_display_gtin_prints_the_code_on_the_box() -> None:
    assert display_gtin("04006381333931") == "4006381333931"
    assert display_gtin("00036000291452") == "0036000291452"
    assert display_gtin("00000073513537") == "73513537"
    assert display_gtin("10012345678902") == "10012345678902"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("тl-1001 ", "TL1001"),  # the contract's example: Cyrillic т, hyphen, trailing space
        ("TL-1001", "TL1001"),
        ("tl 1001", "TL1001"),
        ("ТL_1001", "TL1001"),
        ("TL.1001/B", "TL1001B"),
        ("АВЕКМНОРСТХ", "ABEKMHOPCTX"),  # every Cyrillic look-alike
        ("авекмнорстх", "ABEKMHOPCTX"),  # lower case too
        ("ТЛ-1001", "TЛ1001"),  # Л has no Latin twin and stays
        ("ЕН–2000", "EH2000"),  # en dash
        ("TL\u00a01001", "TL1001"),  # NBSP
    ],
)
def test_vendor_codes_normalize_case_lookalikes_and_separators(raw: str, expected: str) -> None:
    assert normalize_vendor_code(raw) == expected


def test_normalized_vendor_codes_of_one_product_are_equal() -> None:
    spellings = ["TL-1001", "тл-1001".replace("л", "l"), "Tl 1001", "TL_1001", "ТL.1001"]
    assert {normalize_vendor_code(s) for s in spellings} == {"TL1001"}


def test_strip_affixes_removes_the_longest_configured_prefix_and_suffix() -> None:
    assert strip_affixes("TRMTL1001RU", prefixes=["TRM", "T"], suffixes=["RU"]) == "TL1001"
    assert strip_affixes("TL1001", prefixes=["trm-"], suffixes=["-ru"]) == "TL1001"
    assert strip_affixes("TRM", prefixes=["trm"]) == "TRM"
