"""Text a spreadsheet would run as a formula is written as text, in every export that uses the shared helper."""

from __future__ import annotations

import pytest

from reports.cells import escape_formula


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "+7 495 000-00-00", "-1+1", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_formula_starts_get_an_apostrophe(text: str) -> None:
    assert escape_formula(text) == "'" + text


@pytest.mark.parametrize("text", ["Обогреватель TL-1001", "TL-1001", "12 990 ₽", "", " =not first", "'quoted"])
def test_other_text_is_unchanged(text: str) -> None:
    assert escape_formula(text) == text
