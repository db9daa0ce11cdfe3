"""Vendor codes and barcodes as shops print them: the label taken off at the edge, the code kept as written."""

from __future__ import annotations

import pytest

from crawler.parsing.identifiers import clean_identifier


@pytest.mark.parametrize(
    ("printed", "code"),
    [
        ("Артикул: AB-1210", "AB-1210"),
        ("артикул AB-1210", "AB-1210"),
        ("Арт. GD1850Z", "GD1850Z"),
        ("Арт.:GD1850Z", "GD1850Z"),
        ("Код производителя: 0601V18500", "0601V18500"),
        ("Код производителя — 0601V18500", "0601V18500"),
        ("Артикул производителя: 0601V18504", "0601V18504"),
        ("Model: GSR 18V-50", "GSR 18V-50"),
        ("Модель: TK-1720W", "TK-1720W"),
        ("MPN: BL1850", "BL1850"),
        ("Штрихкод: 4607004650017", "4607004650017"),
        ("EAN-13: 4607004650017", "4607004650017"),
        ("Артикул: Арт. 123456", "123456"),
        ("«TL-1001»", "TL-1001"),
        ("(TL-1001)", "TL-1001"),
        ("  TL-1001\u00a0", "TL-1001"),
    ],
)
def test_labels_prefixes_and_wrapping_are_taken_off(printed: str, code: str) -> None:
    assert clean_identifier(printed) == code


@pytest.mark.parametrize("code", ["ARTX-100", "KOD1234", "SKU123", "MODEL-X1", "TL-1001", "06019H5000"])
def test_a_code_that_merely_starts_like_a_label_is_left_alone(code: str) -> None:
    assert clean_identifier(code) == code


@pytest.mark.parametrize("empty", [None, "", "  ", "Артикул:", "«»"])
def test_nothing_left_is_none(empty: str | None) -> None:
    assert clean_identifier(empty) is None
