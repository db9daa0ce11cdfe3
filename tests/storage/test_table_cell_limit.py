"""A CSV cell past the one-cell limit, and a file that cannot be read: one UserError naming file, row and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.errors import UserError
from storage.tabular import MAX_CELL_CHARS, read_table

TOO_LONG = "x" * (MAX_CELL_CHARS + 1)


def write(tmp_path: Path, text: str, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path) -> str:
    with pytest.raises(UserError) as caught:
        read_table(path)
    return str(caught.value)


def test_a_cell_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, f"Артикул;Наименование;РРЦ\nTL-1;{'x' * MAX_CELL_CHARS};990\n")
    assert read_table(path).rows[1].cells[1] == "x" * MAX_CELL_CHARS


def test_one_character_more_names_the_row_the_column_and_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, f"Артикул;Наименование;РРЦ\nTL-1;Вентилятор;990\nTL-2;Обогреватель;{TOO_LONG}\n")
    expected = "prices.csv: row 3, column 3: cell too large (over 131,072 characters, the limit for one cell)"
    assert refusal(path) == expected


def test_a_quoted_cell_over_many_lines_is_named_by_the_line_its_row_starts_on(tmp_path: Path) -> None:
    many_lines = "\n".join(["y" * 1000] * 200)  # each line short, the cell 200 000 characters
    path = write(tmp_path, f'SKU,Name,RRP\nTL-1,Fan,990\nTL-2,"{many_lines}",1490\n')
    assert refusal(path).startswith("prices.csv: row 3, column 2: cell too large")


def test_an_oversized_header_cell_does_not_break_the_delimiter_guess(tmp_path: Path) -> None:
    path = write(tmp_path, f"SKU,{TOO_LONG},RRP\nTL-1,Fan,990\nTL-2,Heater,1490\n")
    assert refusal(path).startswith("prices.csv: row 1, column 2: cell too large")


def test_a_file_that_cannot_be_read_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "Артикул;Наименование;РРЦ\nTL-1;Вентилятор;990\n")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    # Root reads any file whatever its mode, so the refusal is the operating system's word, played back.
    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert refusal(path) == f"{path}: cannot read: Permission denied"
